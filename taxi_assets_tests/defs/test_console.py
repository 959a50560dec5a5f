"""The short console logger (defs/console.py): a failed step is its message on the terminal, the stack
trace stays in the run's event log."""

import dagster as dg

from taxi_assets.defs.console import console_logger, innermost_message

SECRET_URL = "https://user:Hunter2pw@mirror.example/x.csv"


@dg.op
def fails():
    raise ValueError(f"yellow 2021-06: no such file at the source: {SECRET_URL}")


@dg.op
def logs(context: dg.OpExecutionContext):
    context.log.info("yellow 2021-01: 17,982 rows")


def run(op, level="INFO") -> dg.ExecuteInProcessResult:
    job = dg.GraphDefinition(name="g", node_defs=[op]).to_job(logger_defs={"console": console_logger})
    return job.execute_in_process(run_config={"loggers": {"console": {"config": {"log_level": level}}}}, raise_on_error=False)


def test_a_failed_step_is_one_message_without_a_stack_trace(capsys):
    result = run(fails)
    err = capsys.readouterr().err
    assert not result.success
    assert "STEP_FAILURE" in err and "ValueError: yellow 2021-06: no such file at the source" in err
    assert "Stack Trace" not in err and 'File "' not in err and "Hunter2pw" not in err
    # the event log keeps the whole trace
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert failure.event_specific_data.error.to_string().count('File "') >= 1


def test_info_shows_outcomes_and_log_lines_debug_every_event(capsys):
    run(logs)
    info = capsys.readouterr().err
    assert "yellow 2021-01: 17,982 rows" in info and "STEP_SUCCESS" in info and "STEP_START" not in info
    run(logs, "DEBUG")
    assert "STEP_START" in capsys.readouterr().err


def test_innermost_message_drops_the_module_path():
    try:
        try:
            raise KeyError("inner")
        except KeyError as e:
            raise RuntimeError("outer") from e
    except RuntimeError:
        import sys

        from dagster._utils.error import serializable_error_info_from_exc_info

        info = serializable_error_info_from_exc_info(sys.exc_info())
    assert innermost_message(info) == "KeyError: 'inner'"
