import datetime as dt
import gzip

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_assets.localstack import sample
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.core.errors import TaxiFileError
from taxi_assets.core.transform import probe, write_parquet
from taxi_assets_tests.helpers import expected_kept, read_source_rows

JAN = dt.date(2021, 1, 1)


@pytest.mark.parametrize("taxi", sorted(TAXI_TYPES))
def test_sample_month_is_typed_cleaned_and_counted(tmp_path, taxi):
    src = sample.write_month(tmp_path, taxi, JAN, rows=3_000)
    ttype = TAXI_TYPES[taxi]
    out = tmp_path / "out.parquet"
    stats = write_parquet(src, out, ttype, JAN)

    rows_in, dropped = expected_kept(src, ttype.drop_zero_passengers)
    assert stats.rows_in == rows_in
    assert stats.rows_dropped_zero_passengers == dropped
    if ttype.drop_zero_passengers:
        assert dropped > 0, "the sample must exercise the cleaning rule"
    table = pq.read_table(out)
    assert table.num_rows == stats.rows_out == rows_in - dropped
    assert table.schema.equals(ttype.arrow_schema, check_metadata=False)
    assert set(table.column("source_month").to_pylist()) == {JAN}
    if "passenger_count" in table.column_names:
        assert 0 not in table.column("passenger_count").to_pylist()


def test_yellow_tail_block_keeps_nulls_and_other_months(tmp_path):
    src = sample.write_month(tmp_path, "yellow", JAN, rows=2_000)
    _, rows = read_source_rows(src)
    empty_vendor = sum(1 for r in rows if r["VendorID"] == "")
    assert empty_vendor > 0
    out = tmp_path / "y.parquet"
    write_parquet(src, out, TAXI_TYPES["yellow"], JAN)
    t = pq.read_table(out).to_pydict()
    # the empty block stays, with NULLs, not zeros: passenger_count NULL is not "0"
    assert t["vendor_id"].count(None) == empty_vendor
    assert t["passenger_count"].count(None) == empty_vendor
    years = {p.year for p in t["pickup_datetime"]}
    assert {2008, 2088} <= years, "trips from other months are kept as they came"


def _write(path, text: str, gz: bool = True):
    data = text.replace("\n", "\r\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


YELLOW_2018_HEADER = (
    "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,"
    "store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,"
    "tolls_amount,improvement_surcharge,total_amount"
)


def test_old_yellow_csv_blank_second_line_and_leading_dot_decimals(tmp_path):
    src = _write(
        tmp_path / "y.csv.gz",
        YELLOW_2018_HEADER + "\n\n"
        "1,2018-03-01 00:00:10,2018-03-01 00:10:00,1,.80,1,N,41,24,2,6,.5,.5,1.45,0,.3,8.75\n"
        "2,2018-03-01 00:01:10,2018-03-01 00:11:00,0,1.20,1,N,41,24,1,6,.5,.5,0,0,.3,7.3\n",
    )
    out = tmp_path / "o.parquet"
    month = dt.date(2018, 3, 1)
    stats = write_parquet(src, out, TAXI_TYPES["yellow"], month)
    assert (stats.rows_in, stats.rows_dropped_zero_passengers, stats.rows_out) == (2, 1, 1)
    row = pq.read_table(out).to_pylist()[0]
    assert row["trip_distance"] == pytest.approx(0.8)
    assert row["congestion_surcharge"] is None  # absent before 2019: NULL, not 0
    assert "congestion_surcharge" in stats.missing_optional_columns


def test_fhv_2017_capitalisation(tmp_path):
    src = _write(
        tmp_path / "f.csv",
        '"Dispatching_base_num","Pickup_DateTime","DropOff_datetime","PUlocationID","DOlocationID"\n'
        '"B00001","2017-05-01 00:30:00","2017-05-01 00:50:00","","NA"\n'.replace('"NA"', '"7"'),
        gz=False,
    )
    out = tmp_path / "o.parquet"
    stats = write_parquet(src, out, TAXI_TYPES["fhv"], dt.date(2017, 5, 1))
    row = pq.read_table(out).to_pylist()[0]
    assert stats.rows_out == 1
    assert row["dispatching_base_num"] == "B00001"
    assert row["pu_location_id"] is None and row["do_location_id"] == 7


def test_missing_required_column_names_month_expected_and_how_many_found(tmp_path):
    src = _write(tmp_path / "g.csv.gz", "VendorID,lpep_pickup_datetime\n1,2021-01-01 00:00:00\n")
    with pytest.raises(TaxiFileError) as e:
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["yellow"], JAN)
    msg = str(e.value)
    assert "yellow 2021-01" in msg and "pickup_datetime/tpep_pickup_datetime" in msg and "2 column(s), 1 of them known ['VendorID']" in msg
    assert "lpep_pickup_datetime" not in msg  # a header that is not a yellow spelling is not quoted


def test_bad_timestamp_is_a_clear_error(tmp_path):
    src = _write(
        tmp_path / "f.csv.gz",
        "dispatching_base_num,pickup_datetime,dropOff_datetime,PUlocationID,DOlocationID,SR_Flag,Affiliated_base_number\n"
        "B1,2021-01-01 00:00:00,not-a-time,1,2,,B1\n",
    )
    with pytest.raises(TaxiFileError, match="fhv 2021-01"):
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["fhv"], JAN)


def test_header_only_file_is_an_error(tmp_path):
    src = _write(tmp_path / "y.csv.gz", YELLOW_2018_HEADER + "\n")
    with pytest.raises(TaxiFileError, match="header but no rows"):
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["yellow"], JAN)


def test_html_page_is_an_error(tmp_path):
    src = tmp_path / "y.csv.gz"
    src.write_text("<!DOCTYPE html><html>Not Found</html>")
    with pytest.raises(TaxiFileError, match="HTML"):
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["yellow"], JAN)


FHV_HEADER = "dispatching_base_num,pickup_datetime,dropOff_datetime,PUlocationID,DOlocationID,SR_Flag,Affiliated_base_number"


def test_non_utf8_text_is_decoded_as_latin1_and_counted(tmp_path):
    src = tmp_path / "f.csv.gz"
    body = (FHV_HEADER + "\r\nB0\xe91,2021-01-01 00:00:00,2021-01-01 00:10:00,1,2,,B\xff\r\nB02,2021-01-01 00:00:00,,,,1,\r\n")
    src.write_bytes(gzip.compress(body.encode("latin-1")))
    out = tmp_path / "o.parquet"
    logged = []
    stats = write_parquet(src, out, TAXI_TYPES["fhv"], JAN, log=logged.append)
    assert stats.non_utf8_values == 2
    t = pq.read_table(out).to_pydict()
    assert t["dispatching_base_num"] == ["B0\xe91", "B02"]
    assert t["dispatching_base_num"][0].encode("latin-1") == b"B0\xe91"  # lossless
    assert t["affiliated_base_number"] == ["B\xff", None]
    assert any("Latin-1" in m for m in logged)


@pytest.mark.parametrize("extra", [",9", ""])
def test_rows_with_wrong_field_counts_are_counted_in_the_error(tmp_path, extra):
    good = "B1,2021-01-01 00:00:00,2021-01-01 00:10:00,1,2,,B1"
    bad = good + ",9" if extra else "B1,2021-01-01 00:00:00"
    src = _write(tmp_path / "f.csv.gz", FHV_HEADER + "\n" + "\n".join([good, bad, good, bad, bad, good]) + "\n")
    with pytest.raises(TaxiFileError, match=r"fhv 2021-01: 3 row\(s\) with too many or too few fields \(the header has 7\)"):
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["fhv"], JAN)
    assert not (tmp_path / "o.parquet").exists(), "no half-written parquet is left behind"


def test_bad_timestamp_error_names_the_column_and_value(tmp_path):
    src = _write(tmp_path / "f.csv.gz", FHV_HEADER + "\nB1,2021-01-01 00:00:00,yesterday,1,2,,B1\n")
    with pytest.raises(TaxiFileError, match=r"fhv 2021-01: .*'dropOff_datetime'.*yesterday"):
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["fhv"], JAN)


def test_us_style_timestamps_parse(tmp_path):
    src = _write(tmp_path / "f.csv", FHV_HEADER + "\nB1,01/31/2021 23:59:10,02/01/2021 00:10:00,1,2,,B1\n", gz=False)
    write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["fhv"], JAN)
    row = pq.read_table(tmp_path / "o.parquet").to_pylist()[0]
    assert str(row["pickup_datetime"]) == "2021-01-31 23:59:10"


def test_another_taxi_types_file_is_named(tmp_path):
    src = sample.write_month(tmp_path, "fhv", JAN, rows=50)
    with pytest.raises(TaxiFileError, match="green 2021-01: .*those of a fhv file"):
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["green"], JAN)


def test_another_months_file_is_refused_naming_the_month_it_holds(tmp_path):
    src = sample.write_month(tmp_path, "green", JAN, rows=2_000)
    feb = dt.date(2021, 2, 1)
    with pytest.raises(TaxiFileError, match=r"green 2021-02: .* these are the trips of 2021-01"):
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["green"], feb)
    assert not (tmp_path / "o.parquet").exists()
    with pytest.raises(TaxiFileError, match="these are the trips of 2021-01"):
        probe(src, TAXI_TYPES["green"], feb)
    assert probe(src, TAXI_TYPES["green"], JAN).rows_in > 0  # its own month is fine


def test_an_overflowing_number_names_column_and_row_and_nan_is_null(tmp_path):
    header = "dispatching_base_num,pickup_datetime,dropOff_datetime,PUlocationID,DOlocationID,SR_Flag,Affiliated_base_number"
    rows = "B1,2021-01-01 00:00:00,2021-01-01 00:10:00,1,2,,B1\nB1,2021-01-01 00:00:00,2021-01-01 00:10:00,1" + "0" * 400 + ",2,,B1\n"
    src = _write(tmp_path / "f.csv.gz", header + "\n" + rows)
    with pytest.raises(TaxiFileError, match=r"fhv 2021-01: column 'PUlocationID', data row 2: the number is too large"):
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["fhv"], JAN)
    yellow = TAXI_TYPES["yellow"]
    table = sample.generate_tlc_table("yellow", JAN, 50)
    fares = table.column("fare_amount").to_pylist()
    fares[3] = float("nan")
    table = table.set_column(table.column_names.index("fare_amount"), "fare_amount", pa.array(fares, pa.float64()))
    pq.write_table(table, tmp_path / "nan.parquet")
    write_parquet(tmp_path / "nan.parquet", tmp_path / "o2.parquet", yellow, JAN)
    out = pq.read_table(tmp_path / "o2.parquet").column("fare_amount").to_pylist()
    assert None in out and not any(isinstance(v, float) and v != v for v in out)
