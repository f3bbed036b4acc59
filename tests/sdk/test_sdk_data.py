"""The embedded azureml SDK's datastore and tabular datasets, on a real embedded workspace.

The course's prepared data (made by ``tutor.prep`` from the real dataset) is uploaded with
``upload_files`` as the lessons do, registered with ``Dataset.Tabular``, fetched with
``Dataset.get_by_name``, split with ``random_split`` and registered again; effects are
checked on the backend (the LocalWorkspace the step actions use). azureml names are
imported inside the tests: the SDK is active only while the ``sdk_course`` fixture runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

ROWS = 23_222
SMALL_CSV = "id,fare,kind\n" + "".join(f"{i},{i * 1.5},{'ab'[i % 2]}\n" for i in range(100))


@pytest.fixture(scope="session")
def prepared_files(data_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The course's prepared table, as the day-1 data step saves it (CSV and parquet)."""
    from tutor.prep import load_raw, prepare

    frame, _ = prepare(load_raw(data_path))
    folder = tmp_path_factory.mktemp("prepared")
    csv, parquet = folder / "green_taxi_prepared.csv", folder / "green_taxi_prepared.parquet"
    frame.to_csv(csv, index=False)
    frame.to_parquet(parquet, index=False)
    return {"csv": csv, "parquet": parquet}


@pytest.fixture
def course_data(sdk_course: Path, prepared_files: dict[str, Path]) -> Path:
    """The prepared files copied into the course folder's data/, as the lessons name them."""
    data = sdk_course / "data"
    data.mkdir()
    for path in prepared_files.values():
        (data / path.name).write_bytes(path.read_bytes())
    return data


@pytest.fixture
def small(sdk_course: Path, ws: Any) -> Any:
    """A 100-row CSV with an id column, uploaded to small/trips.csv."""
    (sdk_course / "trips.csv").write_text(SMALL_CSV)
    ws.get_default_datastore().upload_files(["trips.csv"], target_path="small", show_progress=False)
    return ws.get_default_datastore()


def _upload_course_data(ws: Any, course_data: Path) -> Any:
    datastore = ws.get_default_datastore()
    datastore.upload_files(["data/green_taxi_prepared.csv", "data/green_taxi_prepared.parquet"],
                           target_path="alice-greentaxi", overwrite=True, show_progress=False)
    return datastore


# --------------------------------------------------------------------------- the datastore


def test_default_datastore_and_datastore_get(ws: Any, backend: Any) -> None:
    from azureml.core import Datastore
    from azureml.data.azure_storage_datastore import AzureBlobDatastore
    from azureml.exceptions import UserErrorException

    datastore = ws.get_default_datastore()
    assert isinstance(datastore, AzureBlobDatastore)
    assert datastore.name == backend.default_datastore.name == "workspaceblobstore"
    assert datastore.datastore_type == "AzureBlob"
    assert datastore.container_name.startswith("azureml-blobstore-") and datastore.account_name
    assert json.loads(repr(datastore))["name"] == "workspaceblobstore"
    for got in (Datastore(ws), Datastore(ws, "workspaceblobstore"), Datastore.get(ws, "workspaceblobstore"),
                Datastore.get_default(ws), ws.datastores["workspaceblobstore"]):
        assert isinstance(got, AzureBlobDatastore) and got.name == "workspaceblobstore"
    with pytest.raises(UserErrorException, match="Could not find datastore: nothere"):
        Datastore.get(ws, "nothere")
    with pytest.raises(UserErrorException, match="Could not find datastore: nothere"):
        Datastore(ws, "nothere")
    with pytest.raises(TypeError):
        Datastore.get(ws, name="workspaceblobstore")


def test_upload_files_as_the_lesson_with_azureml_progress(ws: Any, backend: Any, course_data: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from azureml.data.data_reference import DataReference

    datastore = ws.get_default_datastore()
    ref = datastore.upload_files(["data/green_taxi_prepared.csv", "data/green_taxi_prepared.parquet"],
                                 target_path="alice-greentaxi", overwrite=True)
    assert isinstance(ref, DataReference) and ref.path_on_datastore == "alice-greentaxi"
    assert ref.datastore is datastore and str(ref).startswith("$AZUREML_DATAREFERENCE_")
    assert backend.default_datastore.list("alice-greentaxi/") == [
        "alice-greentaxi/green_taxi_prepared.csv", "alice-greentaxi/green_taxi_prepared.parquet"]
    assert backend.default_datastore.local_path("alice-greentaxi/green_taxi_prepared.csv").read_bytes() == \
        (course_data / "green_taxi_prepared.csv").read_bytes()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Uploading an estimated of 2 files"
    assert "Uploaded data/green_taxi_prepared.csv, 1 files out of an estimated total of 2" in lines
    assert lines[-1] == "Uploaded 2 files"

    # overwrite=False skips what is there, as azureml does (no error, nothing replaced)
    datastore.upload_files(["data/green_taxi_prepared.csv"], target_path="alice-greentaxi")
    out = capsys.readouterr().out
    assert "Target already exists. Skipping upload for alice-greentaxi/green_taxi_prepared.csv" in out
    assert out.splitlines()[-1] == "Uploaded 0 files"
    datastore.upload_files(["data/green_taxi_prepared.csv"], target_path="/alice-greentaxi/", overwrite=True,
                           show_progress=False)
    assert capsys.readouterr().out == ""


def test_upload_keeps_paths_below_relative_root_and_upload_dir(ws: Any, backend: Any, sdk_course: Path,
                                                                tmp_path: Path) -> None:
    from azureml.exceptions import UserErrorException

    for rel in ("src/a.csv", "src/sub/b.csv", "other/c.csv"):
        (sdk_course / rel).parent.mkdir(parents=True, exist_ok=True)
        (sdk_course / rel).write_text("x\n1\n")
    datastore = ws.get_default_datastore()
    store = backend.default_datastore
    datastore.upload_files(["src/a.csv", "src/sub/b.csv"], target_path="one", show_progress=False)
    assert store.list("one/") == ["one/a.csv", "one/sub/b.csv"]
    datastore.upload_files(["src/a.csv", "other/c.csv"], target_path="two", show_progress=False)
    assert store.list("two/") == ["two/other/c.csv", "two/src/a.csv"]
    datastore.upload_files([str(sdk_course / "src/sub/b.csv")], relative_root=str(sdk_course), target_path="three",
                           show_progress=False)
    assert store.list("three/") == ["three/src/sub/b.csv"]
    ref = datastore.upload(str(sdk_course / "src"), target_path="four", show_progress=False)
    assert ref.path_on_datastore == "four" and store.list("four/") == ["four/a.csv", "four/sub/b.csv"]

    before = store.list()
    with pytest.raises(UserErrorException, match="does not point to a file"):
        datastore.upload_files(["src/a.csv", "src/missing.csv"], target_path="five")
    with pytest.raises(UserErrorException, match="src_path must be a directory"):
        datastore.upload("src/a.csv")
    with pytest.raises(UserErrorException, match="files must be list"):
        datastore.upload_files("src/a.csv")
    with pytest.raises(TypeError):
        datastore.upload_files(["src/a.csv"], target="six")
    assert store.list() == before  # a failed upload writes nothing

    assert datastore.download(str(tmp_path / "down"), prefix="one/", show_progress=False) == 2
    assert (tmp_path / "down" / "one" / "sub" / "b.csv").read_text() == "x\n1\n"
    assert datastore.download(str(tmp_path / "down"), prefix="one/", show_progress=False) == 0  # exist: skipped
    assert datastore.download(str(tmp_path / "down"), prefix="one/", overwrite=True, show_progress=False) == 2
    assert datastore.download(str(tmp_path / "none"), prefix="nothing-here/") == 0

    path = datastore.path("one/a.csv")
    assert path.path_on_datastore == "one/a.csv" and path.datastore is datastore


# --------------------------------------------------------------------------- datasets


def test_register_twice_get_by_name_and_read(ws: Any, backend: Any, course_data: Path) -> None:
    from azureml.core import Dataset
    from azureml.data import TabularDataset

    datastore = _upload_course_data(ws, course_data)
    data = Dataset.Tabular.from_delimited_files(path=(datastore, "alice-greentaxi/green_taxi_prepared.csv"))
    assert isinstance(data, TabularDataset)
    assert (data.name, data.version, data.id) == (None, None, None)
    first = data.register(workspace=ws, name="alice-green-taxi", create_new_version=True)
    second = data.register(ws, "alice-green-taxi", "prepared trips", {"day": 1}, True)
    assert (first.name, first.version, second.version) == ("alice-green-taxi", 1, 2)
    assert second.description == "prepared trips" and second.tags == {"day": "1"}
    assert [r.version for r in backend.list_dataset_versions("alice-green-taxi")] == [1, 2]
    assert backend.get_dataset("alice-green-taxi").datastore_paths == ["alice-greentaxi/green_taxi_prepared.csv"]

    latest, v1 = Dataset.get_by_name(ws, "alice-green-taxi"), Dataset.get_by_name(ws, name="alice-green-taxi",
                                                                                      version=1)
    assert (latest.version, v1.version, Dataset.get_by_name(ws, "alice-green-taxi", "1").version) == (2, 1, 1)
    assert latest.id == second.id != v1.id and Dataset.get_by_id(ws, v1.id).version == 1
    assert ws.datasets["alice-green-taxi"].version == 2

    expected = pd.read_csv(course_data / "green_taxi_prepared.csv")
    for dataset in (data, latest, v1):
        frame = dataset.to_pandas_dataframe()
        assert frame.shape == (ROWS, 8) == expected.shape
        assert list(frame.columns) == list(expected.columns)
        assert frame.dtypes.to_dict() == expected.dtypes.to_dict()
        pd.testing.assert_frame_equal(frame, expected)


def test_parquet_and_list_of_paths(ws: Any, backend: Any, course_data: Path) -> None:
    from azureml.core import Dataset
    from azureml.data.datapath import DataPath

    datastore = _upload_course_data(ws, course_data)
    expected = pd.read_parquet(course_data / "green_taxi_prepared.parquet")
    parquet = Dataset.Tabular.from_parquet_files([DataPath(datastore, "alice-greentaxi/green_taxi_prepared.parquet")])
    pd.testing.assert_frame_equal(parquet.to_pandas_dataframe(), expected)
    registered = parquet.register(ws, "alice-parquet")
    assert backend.get_dataset("alice-parquet").file_format == "parquet"
    pd.testing.assert_frame_equal(registered.to_pandas_dataframe(), expected)

    datastore.upload_files(["data/green_taxi_prepared.csv"], target_path="alice-copy", show_progress=False)
    both = Dataset.Tabular.from_delimited_files([(datastore, "alice-greentaxi/green_taxi_prepared.csv"),
                                                 datastore.path("alice-copy/green_taxi_prepared.csv")])
    assert both.to_pandas_dataframe().shape == (2 * ROWS, 8)
    glob = Dataset.Tabular.from_delimited_files((datastore, "alice-greentaxi/*.csv"), include_path=True)
    frame = glob.to_pandas_dataframe()
    assert frame.columns[0] == "Path" and set(frame["Path"]) == {"/alice-greentaxi/green_taxi_prepared.csv"}


def test_random_split_sizes_disjoint_deterministic(ws: Any, small: Any, course_data: Path) -> None:
    from azureml.core import Dataset

    trips = Dataset.Tabular.from_delimited_files((small, "small/trips.csv"))
    train, test = trips.random_split(0.8, seed=223)
    a, b = train.to_pandas_dataframe(), test.to_pandas_dataframe()
    assert (len(a), len(b)) == (80, 20)
    assert set(a["id"]).isdisjoint(b["id"]) and set(a["id"]) | set(b["id"]) == set(range(100))
    assert list(a["id"]) == sorted(a["id"])  # rows keep their order
    again, _ = trips.random_split(percentage=0.8, seed=223)
    pd.testing.assert_frame_equal(again.to_pandas_dataframe(), a)
    other, _ = trips.random_split(0.8, seed=224)
    assert list(other.to_pandas_dataframe()["id"]) != list(a["id"])
    unseeded_train, unseeded_test = trips.random_split(0.5)
    assert len(set(unseeded_train.to_pandas_dataframe()["id"]) | set(unseeded_test.to_pandas_dataframe()["id"])) \
        == 100
    with pytest.raises(ValueError):
        trips.random_split(1.5)

    datastore = _upload_course_data(ws, course_data)
    prepared = Dataset.Tabular.from_delimited_files((datastore, "alice-greentaxi/green_taxi_prepared.csv"))
    big_train, big_test = prepared.random_split(0.8, seed=223)
    assert (len(big_train.to_pandas_dataframe()), len(big_test.to_pandas_dataframe())) == (18_578, 4_644)

    assert list(trips.take(5).to_pandas_dataframe()["id"]) == [0, 1, 2, 3, 4]
    assert list(trips.skip(97).to_pandas_dataframe()["id"]) == [97, 98, 99]
    assert list(trips.keep_columns(["id", "fare"]).to_pandas_dataframe().columns) == ["id", "fare"]
    assert list(trips.drop_columns("kind").to_pandas_dataframe().columns) == ["id", "fare"]


def test_register_a_split_writes_its_rows_then_registers(ws: Any, backend: Any, small: Any) -> None:
    from azureml.core import Dataset

    trips = Dataset.Tabular.from_delimited_files((small, "small/trips.csv"))
    train, test = trips.random_split(0.8, seed=223)
    registered = train.register(ws, "alice-trips-train", description="80% of the trips")
    assert (registered.name, registered.version) == ("alice-trips-train", 1)
    record = backend.get_dataset("alice-trips-train")
    assert record.row_count == 80 and record.description == "80% of the trips"
    (path,) = record.datastore_paths
    assert path.startswith("managed-dataset/alice-trips-train/") and path.endswith("/alice-trips-train.csv")
    pd.testing.assert_frame_equal(registered.to_pandas_dataframe(), train.to_pandas_dataframe())
    pd.testing.assert_frame_equal(Dataset.get_by_name(ws, "alice-trips-train").to_pandas_dataframe(),
                                  train.to_pandas_dataframe())
    again = train.register(ws, "alice-trips-train", create_new_version=True)
    assert again.version == 2 and backend.get_dataset("alice-trips-train").datastore_paths == [path]
    assert test.register(ws, "alice-trips-test").to_pandas_dataframe().shape == (20, 3)
    # a split of a registered dataset, registered under another name
    half, _ = Dataset.get_by_name(ws, "alice-trips-train").random_split(0.5, seed=1)
    assert half.register(ws, "alice-quarter").to_pandas_dataframe().shape == (40, 3)


# --------------------------------------------------------------------------- bad input


def test_missing_file_with_validate_fails_like_azureml(ws: Any, small: Any) -> None:
    from azureml.core import Dataset
    from azureml.data.dataset_error_handling import DatasetValidationError
    from azureml.exceptions import UserErrorException

    with pytest.raises(DatasetValidationError, match="Failed to validate the data") as caught:
        Dataset.Tabular.from_delimited_files(path=(small, "small/missing.csv"))
    assert isinstance(caught.value, UserErrorException) and "small/missing.csv" in caught.value.message
    with pytest.raises(DatasetValidationError, match="Failed to infer column type"):
        Dataset.Tabular.from_delimited_files((small, "small/missing.csv"), validate=False)
    with pytest.raises(DatasetValidationError):
        Dataset.Tabular.from_parquet_files((small, "nowhere/x.parquet"))
    lazy = Dataset.Tabular.from_delimited_files((small, "small/missing.csv"), validate=False, infer_column_types=False)
    with pytest.raises(UserErrorException, match="Execution failed"):
        lazy.to_pandas_dataframe()


def test_wrong_path_type_keyword_and_missing_dataset(ws: Any, backend: Any, small: Any) -> None:
    from azureml.core import Dataset
    from azureml.exceptions import UserErrorException

    for bad in (5, "small/trips.csv", [], None, ["small/trips.csv"]):
        with pytest.raises(UserErrorException, match="Invalid argument type for `path`"):
            Dataset.Tabular.from_delimited_files(bad)
    with pytest.raises(UserErrorException, match="Invalid tuple for path"):
        Dataset.Tabular.from_delimited_files(("workspaceblobstore", "small/trips.csv"))
    with pytest.raises(UserErrorException, match="no network"):
        Dataset.Tabular.from_delimited_files("https://example.com/trips.csv")
    with pytest.raises(UserErrorException, match="Invalid encoding 'utf-9'"):
        Dataset.Tabular.from_delimited_files((small, "small/trips.csv"), encoding="utf-9")
    with pytest.raises(TypeError):
        Dataset.Tabular.from_delimited_files(paths=(small, "small/trips.csv"))
    trips = Dataset.Tabular.from_delimited_files((small, "small/trips.csv"))
    with pytest.raises(TypeError):
        trips.register(ws, "alice-trips", new_version=True)
    with pytest.raises(TypeError):
        trips.random_split(0.8, random_state=1)

    with pytest.raises(UserErrorException) as missing:
        Dataset.get_by_name(ws, "alice-nothing")
    assert missing.value.message == 'Cannot find dataset registered with name "alice-nothing" (version: None) ' \
                                    "in the workspace."
    trips.register(ws, "alice-trips")
    with pytest.raises(UserErrorException, match=r'name "alice-trips" \(version: 7\)'):
        Dataset.get_by_name(ws, "alice-trips", version=7)
    with pytest.raises(UserErrorException, match='Invalid value x for version. Version value must be number or'):
        Dataset.get_by_name(ws, "alice-trips", version="x")
    with pytest.raises(UserErrorException, match='Cannot find dataset with id "nope"'):
        Dataset.get_by_id(ws, "nope")
    with pytest.raises(UserErrorException, match="Expected an azureml.core.Workspace"):
        Dataset.get_by_name("ws", "alice-trips")


def test_failed_register_leaves_no_version_and_no_file(ws: Any, backend: Any, small: Any) -> None:
    from azureml.core import Dataset
    from azureml.exceptions import UserErrorException

    trips = Dataset.Tabular.from_delimited_files((small, "small/trips.csv"))
    trips.register(ws, "alice-trips")
    with pytest.raises(UserErrorException, match='already a dataset registered under name "alice-trips"'):
        trips.register(ws, "alice-trips")
    assert [r.version for r in backend.list_dataset_versions("alice-trips")] == [1]

    files = backend.default_datastore.list()
    train, _ = trips.random_split(0.8, seed=223)
    with pytest.raises(UserErrorException):
        train.register(ws, "not a valid name!")
    with pytest.raises(UserErrorException):
        train.register(ws, "alice-trips-train", tags=["not", "a", "mapping"])
    with pytest.raises(UserErrorException, match="already a dataset registered"):
        train.register(ws, "alice-trips")
    assert backend.default_datastore.list() == files  # the rows written for the registration are gone again
    assert [d.name for d in backend.list_datasets()] == ["alice-trips"]
    assert [r.version for r in backend.list_dataset_versions("alice-trips")] == [1]


def test_unsupported_calls_explain_themselves(ws: Any, small: Any) -> None:
    from azureml.core import Dataset
    from azureml.exceptions import UserErrorException

    trips = Dataset.Tabular.from_delimited_files((small, "small/trips.csv"))
    with pytest.raises(AttributeError, match="TabularDataset.to_spark_dataframe is not part of the azureml SDK"):
        trips.to_spark_dataframe()
    with pytest.raises(AttributeError, match="TabularDatasetFactory.from_sql_query is not part"):
        Dataset.Tabular.from_sql_query("select 1")
    with pytest.raises(ImportError, match="azureml.data.FileDataset is not part"):
        from azureml.data import FileDataset  # noqa: F401
    with pytest.raises(UserErrorException, match="partition_format"):
        Dataset.Tabular.from_delimited_files((small, "small/*.csv"), partition_format="/{kind}/x.csv")


def test_parsing_options(ws: Any, sdk_course: Path) -> None:
    from azureml.core import Dataset
    from azureml.data import DataType

    (sdk_course / "semi.csv").write_text("1;2,5;x\n2;;\n")
    datastore = ws.get_default_datastore()
    datastore.upload_files(["semi.csv"], target_path="opts", show_progress=False)
    data = Dataset.Tabular.from_delimited_files((datastore, "opts/semi.csv"), separator=";", header=False,
                                                set_column_types={"Column2": DataType.to_float(decimal_mark=",")})
    frame = data.to_pandas_dataframe()
    assert list(frame.columns) == ["Column1", "Column2", "Column3"]
    assert frame["Column2"].tolist()[0] == 2.5 and pd.isna(frame["Column2"].tolist()[1])
    as_text = Dataset.Tabular.from_delimited_files((datastore, "opts/semi.csv"), separator=";", header=False,
                                                   infer_column_types=False, empty_as_string=True)
    assert as_text.to_pandas_dataframe()["Column3"].tolist() == ["x", ""]
    registered = data.register(ws, "alice-semi")  # materialised: the parsed rows are registered
    assert registered.to_pandas_dataframe()["Column2"].tolist()[0] == 2.5


# --------------------------------------------------------------------------- import cost and signatures


def test_import_is_light() -> None:
    """import azureml.core and making a dataset definition import no pandas; import under 0.3 s."""
    code = (
        "import sys, time\n"
        "import tutor.sdk\n"
        "tutor.sdk.activate(environ=False)\n"
        "t = time.perf_counter()\n"
        "import azureml.core\n"
        "elapsed = time.perf_counter() - t\n"
        "from azureml.core import Dataset, Datastore\n"
        "from azureml.data import TabularDataset\n"
        "import azureml.data.dataset_factory, azureml.data.azure_storage_datastore\n"
        "print(elapsed, 'pandas' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=str(Path(__file__).resolve().parents[2]), check=True).stdout.split()
    assert float(out[0]) < 0.3 and out[1] == "False"
