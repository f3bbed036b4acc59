"""Contract: the default datastore and tabular datasets (versions, profiles)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tutor.errors import TutorError
from tutor.workspace.base import Workspace

CSV_V1 = "vendorID,tripDistance,storeAndFwdFlag,totalAmount\n1,1.0,N,5.0\n2,2.0,N,9.0\n2,,Y,13.0\n1,4.0,N,\n"
CSV_V2 = "vendorID,tripDistance,storeAndFwdFlag,totalAmount\n1,1.5,N,6.0\n2,2.5,Y,10.0\n"


@pytest.fixture
def prepared(tmp_path: Path) -> Path:
    folder = tmp_path / "prepared"
    folder.mkdir()
    (folder / "prepped.csv").write_text(CSV_V1)
    (folder / "notes").mkdir()
    (folder / "notes" / "readme.txt").write_text("how the data was prepared")
    return folder


# --------------------------------------------------------------------------- datastore


def test_upload_list_download(workspace: Workspace, prepared: Path, tmp_path: Path) -> None:
    store = workspace.default_datastore
    uploaded = store.upload(prepared, "alice-greentaxi")
    assert uploaded == ["alice-greentaxi/notes/readme.txt", "alice-greentaxi/prepped.csv"]
    assert store.list("alice-greentaxi/") == uploaded
    assert store.list("nothing-here") == []
    got = store.download("alice-greentaxi/prepped.csv", tmp_path / "down")
    assert got == [tmp_path / "down" / "alice-greentaxi" / "prepped.csv"]
    assert got[0].read_text() == CSV_V1
    folder = store.download("alice-greentaxi", tmp_path / "all")
    assert len(folder) == 2
    with pytest.raises(TutorError, match="already exist"):
        store.download("alice-greentaxi/prepped.csv", tmp_path / "down")


def test_upload_refuses_to_overwrite_unless_asked(workspace: Workspace, prepared: Path) -> None:
    store = workspace.default_datastore
    store.upload(prepared, "alice-greentaxi")
    (prepared / "prepped.csv").write_text(CSV_V2)
    with pytest.raises(TutorError, match="already has alice-greentaxi/notes/readme.txt") as caught:
        store.upload(prepared, "alice-greentaxi")
    assert "overwrite=True" in str(caught.value)
    store.upload(prepared, "alice-greentaxi", overwrite=True)
    store.upload_files([prepared / "prepped.csv"], "data/prepped")
    assert store.list("data/") == ["data/prepped/prepped.csv"]
    with pytest.raises(TutorError, match="already has"):
        store.upload_files([prepared / "prepped.csv"], "data/prepped")


@pytest.mark.parametrize("target", ["../outside", "C:/Windows", "a/../../b"])
def test_datastore_paths_stay_inside(workspace: Workspace, prepared: Path, target: str) -> None:
    with pytest.raises(TutorError, match="not a path inside the datastore"):
        workspace.default_datastore.upload(prepared, target)


def test_upload_of_missing_things_is_explained(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(TutorError, match="no folder"):
        workspace.default_datastore.upload(tmp_path / "missing")
    with pytest.raises(TutorError, match="no file"):
        workspace.default_datastore.upload_files([tmp_path / "missing.csv"])
    with pytest.raises(TutorError, match="nothing at 'nope'"):
        workspace.default_datastore.download("nope", tmp_path)


# --------------------------------------------------------------------------- datasets


def test_dataset_versions_and_latest(workspace: Workspace, prepared: Path) -> None:
    store = workspace.default_datastore
    store.upload(prepared, "alice-greentaxi")
    v1 = workspace.register_tabular_dataset("alice-green-taxi", "alice-greentaxi/prepped.csv",
                                            description="prepared trips", tags={"day": 1})
    assert (v1.name, v1.version, v1.row_count, v1.column_count) == ("alice-green-taxi", 1, 4, 4)
    assert v1.tags == {"day": "1"} and v1.description == "prepared trips"
    assert v1.datastore_paths == ["alice-greentaxi/prepped.csv"]

    (prepared / "prepped.csv").write_text(CSV_V2)
    store.upload(prepared, "alice-greentaxi-v2")
    v2 = workspace.register_tabular_dataset("alice-green-taxi", "alice-greentaxi-v2/prepped.csv")
    assert v2.version == 2
    assert workspace.get_dataset("alice-green-taxi").version == 2
    assert workspace.get_dataset("alice-green-taxi", "latest").row_count == 2
    assert workspace.get_dataset("alice-green-taxi", 1).row_count == 4
    assert [d.version for d in workspace.list_dataset_versions("alice-green-taxi")] == [1, 2]
    assert [(d.name, d.version) for d in workspace.list_datasets()] == [("alice-green-taxi", 2)]

    evidence = dataclasses.asdict(workspace.get_dataset("alice-green-taxi", 1))
    assert json.loads(json.dumps(evidence))["version"] == 1  # records are JSON-safe evidence
    frame = workspace.get_dataset("alice-green-taxi", 1).to_pandas_dataframe()
    assert list(frame.columns) == ["vendorID", "tripDistance", "storeAndFwdFlag", "totalAmount"]
    assert len(frame) == 4 and frame["totalAmount"].sum() == pytest.approx(27.0)


def test_dataset_name_rules_and_missing_names(workspace: Workspace, prepared: Path) -> None:
    workspace.default_datastore.upload(prepared, "d")
    workspace.register_tabular_dataset("taxi", "d/prepped.csv")
    with pytest.raises(TutorError, match="already registered") as caught:
        workspace.register_tabular_dataset("taxi", "d/prepped.csv", create_new_version=False)
    assert "create_new_version=True" in str(caught.value)
    with pytest.raises(TutorError, match="no dataset named 'taxy'") as caught:
        workspace.get_dataset("taxy")
    assert "taxi" in str(caught.value)
    with pytest.raises(TutorError, match="no version 7"):
        workspace.get_dataset("taxi", 7)
    with pytest.raises(TutorError, match="not a version"):
        workspace.get_dataset("taxi", 0)
    with pytest.raises(TutorError, match="nothing at 'd/missing.csv'"):
        workspace.register_tabular_dataset("taxi2", "d/missing.csv")
    with pytest.raises(TutorError, match="not a parquet file") as caught:
        workspace.register_tabular_dataset("taxi2", "d/prepped.csv", file_format="parquet")
    assert "file_format='csv'" in str(caught.value)


def test_dataset_from_a_folder_and_a_glob(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "months"
    folder.mkdir()
    for month in (1, 2, 3):
        (folder / f"m{month}.csv").write_text(f"month,total\n{month},1.0\n{month},2.0\n")
    workspace.default_datastore.upload(folder, "months")
    assert workspace.register_tabular_dataset("by-folder", "months").row_count == 6
    assert workspace.register_tabular_dataset("by-glob", "months/m[12].csv").row_count == 4
    assert workspace.register_tabular_dataset("by-list", ["months/m1.csv", "months/m3.csv"]).row_count == 4


def test_dataset_profile_values(workspace: Workspace, prepared: Path) -> None:
    workspace.default_datastore.upload(prepared, "p")
    workspace.register_tabular_dataset("profiled", "p/prepped.csv")
    profile = workspace.dataset_profile("profiled")
    assert (profile.name, profile.version, profile.row_count) == ("profiled", 1, 4)
    distance = profile.column("tripDistance")
    assert distance.kind == "decimal"
    assert (distance.count, distance.missing, distance.distinct) == (3, 1, 3)
    assert (distance.min, distance.max) == (1.0, 4.0)
    assert distance.mean == pytest.approx(7 / 3)
    assert sum(distance.histogram) == 3 and len(distance.bin_edges) == len(distance.histogram) + 1
    vendor = profile.column("vendorID")
    assert (vendor.kind, vendor.min, vendor.max, vendor.distinct, vendor.mean) == ("integer", 1, 2, 2, 1.5)
    flag = profile.column("storeAndFwdFlag")
    assert flag.kind == "string" and dict(zip(flag.bin_labels, flag.histogram)) == {"N": 3, "Y": 1}
    total = profile.column("totalAmount")
    assert total.missing == 1 and total.mean == pytest.approx(9.0)
    with pytest.raises(TutorError, match="no column 'fare'"):
        profile.column("fare")


def test_profile_of_the_course_parquet(workspace: Workspace, real_data: Path) -> None:
    workspace.default_datastore.upload_files([real_data], "raw")
    record = workspace.register_tabular_dataset("green-taxi-raw", f"raw/{real_data.name}", file_format="parquet")
    assert record.row_count == 24000
    profile = workspace.dataset_profile("green-taxi-raw")
    names = [c.name for c in profile.columns]
    assert "__index_level_0__" in names  # what Azure ML's loader shows for the stored index
    for empty in ("puLocationId", "doLocationId", "ehailFee"):
        column = profile.column(empty)
        assert (column.kind, column.missing, column.count) == ("empty", 24000, 0)
    assert profile.column("improvementSurcharge").kind == "string"
    pickup = profile.column("lpepPickupDatetime")
    assert pickup.kind == "datetime" and pickup.min.startswith("2015-01") and pickup.max.startswith("2015-12")
    assert sum(pickup.histogram) == 24000
    assert profile.column("vendorID").distinct == 2
    frame = workspace.get_dataset("green-taxi-raw").to_pandas_dataframe()
    assert frame.shape == (24000, 24)
