"""Loaders of the real data sets (mtreg.datasets.load_*): layout, protocol splits, checksums.

The data tests find the files through the environment variable MTREG_DATA, which
tests/conftest.py sets to ../shared/data beside the checkout when it is unset. Without the
data set's folder they skip, except under CI (CI=true), where a missing data set fails.
The download tests never touch the network: they download from file:// URLs into
temporary folders.
"""

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from mtreg import _loaders
from mtreg.datasets import (
    get_data_home,
    load_computer_survey,
    load_landmine,
    load_parkinsons,
    load_sarcos,
    load_school,
)

LOADERS = {
    "school": load_school,
    "landmine": load_landmine,
    "computer_survey": load_computer_survey,
    "parkinsons": load_parkinsons,
    "sarcos": load_sarcos,
}
COMPUTER_MAT = "computer_survey/conjointAnalysisComputerBuyers.mat"


def _in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _data_home(folder):
    """MTREG_DATA if it holds ``folder`` (or file); else skip (fail under CI)."""
    home = os.environ.get(_loaders.ENV_VAR)
    if home and (Path(home) / folder).exists():
        return Path(home)
    reason = (
        f"data set {folder!r} not found: {_loaders.ENV_VAR} is unset and there is no "
        "../shared/data beside the checkout"
        if not home
        else f"data set {folder!r} not found: no folder {Path(home) / folder}"
    )
    if _in_ci():
        pytest.fail(f"{reason} (CI is set, so missing data is an error)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any download a test triggers must come from a local file:// URL."""
    real_urlopen = _loaders._urlopen

    def local_only(url, *args, **kwargs):
        assert url.startswith("file://"), f"a test tried to download {url}"
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(_loaders, "_urlopen", local_only)


@pytest.fixture(scope="module")
def school():
    return load_school(data_home=_data_home("school"))


@pytest.fixture(scope="module")
def computer():
    return load_computer_survey(data_home=_data_home("computer_survey"))


def _counts(task_ids):
    return np.bincount(task_ids)


# --- school ----------------------------------------------------------------------------


def test_school_shapes_and_readme_facts(school):
    X, y, task_ids = school.data, school.target, school.task_ids
    assert X.shape == (15362, 27) and X.dtype == np.float64
    assert y.shape == task_ids.shape == (15362,) and y.dtype == np.float64
    assert len(school.feature_names) == 27 and "bias" not in school.feature_names
    counts = _counts(task_ids)
    assert counts.size == 139 and (counts.min(), np.median(counts), counts.max()) == (22, 103, 251)
    assert np.all(np.diff(task_ids) >= 0)  # task-major
    assert y.min() == 1 and y.max() == 70 and np.all(y == np.round(y))
    assert y.mean() == pytest.approx(20.6, abs=0.01)
    assert y.var() == pytest.approx(161.8, abs=0.1)
    # every one-hot group has one 1 per row (VR band: ~0.1 % rows have none)
    for group in (slice(0, 3), slice(5, 7), slice(10, 21), slice(21, 24), slice(24, 27)):
        assert np.all(X[:, group].sum(axis=1) == 1)
    assert np.mean(X[:, 7:10].sum(axis=1) == 0) < 0.002
    assert X[:, 10].mean() > 0.5  # ESWI is the first (and largest) ethnic group
    # school gender and denomination are constant within each school
    for col in range(21, 27):
        per_task_max = np.zeros(139)
        np.maximum.at(per_task_max, task_ids, X[:, col])
        assert np.array_equal(per_task_max[task_ids], X[:, col])


def test_school_bias_column():
    home = _data_home("school")
    X, y, task_ids = load_school(data_home=home, bias=True, return_X_y_tasks=True)
    assert X.shape == (15362, 28) and np.all(X[:, -1] == 1.0)
    bunch = load_school(data_home=home)
    np.testing.assert_array_equal(X[:, :-1], bunch.data)
    assert load_school(data_home=home, bias=True).feature_names[-1] == "bias"


def test_school_splits_partition_each_task(school):
    n, task_ids = school.target.size, school.task_ids
    counts = _counts(task_ids)
    assert len(school.splits) == 10
    for train, test in school.splits:
        assert train.dtype == test.dtype == np.int64
        assert (train.size, test.size) == (11472, 3890)
        np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(n))
        train_counts = np.bincount(task_ids[train], minlength=139)
        np.testing.assert_array_equal(train_counts, np.floor(0.75 * counts))
        assert 0.72 <= (train_counts / counts).min() and (train_counts / counts).max() <= 0.75
    assert not np.array_equal(school.splits[0][0], school.splits[1][0])


def test_school_splits_agree_with_per_task_offsets(school):
    """The files' own 1-based per-task start offsets put every index in its task."""
    home = _data_home("school")
    for i, (train, test) in enumerate(school.splits, start=1):
        mat = scipy.io.loadmat(home / "school" / f"school_{i}_indexes.mat")
        for indices, key in ((train, "tr_indexes"), (test, "tst_indexes")):
            starts = mat[key].ravel().astype(np.int64) - 1
            block = np.repeat(np.arange(139), np.diff(np.append(starts, indices.size)))
            np.testing.assert_array_equal(school.task_ids[indices], block)


def test_school_matches_the_malsar_copy(school):
    """school.mat (MALSAR's per-task cells) is the same data in the same task order."""
    mat = scipy.io.loadmat(_data_home("school") / "school" / "school.mat")
    X_cells, y_cells = mat["X"].ravel(), mat["Y"].ravel()
    assert X_cells.size == 139
    np.testing.assert_array_equal(np.concatenate(X_cells)[:, :-1], school.data)
    np.testing.assert_array_equal(np.concatenate(y_cells).ravel(), school.target)
    np.testing.assert_array_equal(_counts(school.task_ids), [c.shape[0] for c in X_cells])


def test_school_splits_work_as_cv(school):
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import cross_val_score

    scores = cross_val_score(LinearRegression(), school.data, school.target, cv=school.splits)
    assert scores.shape == (10,) and np.all((0.2 < scores) & (scores < 0.4))


# --- landmine --------------------------------------------------------------------------

# per-task rows and positives, as listed in landmine/README.md
# fmt: off
LANDMINE_COUNTS = [690, 690, 689, 508, 509, 509, 510, 511, 508, 509, 689, 688, 508, 510, 507,
                   445, 449, 448, 449, 449, 451, 454, 447, 449, 445, 448, 448, 454, 449]
LANDMINE_POSITIVES = [40, 48, 39, 19, 22, 29, 29, 26, 31, 15, 38, 35, 27, 31, 17,
                      32, 27, 31, 30, 37, 33, 39, 17, 41, 31, 36, 36, 26, 42]
# fmt: on


def test_landmine():
    bunch = load_landmine(data_home=_data_home("landmine"))
    X, y, task_ids = bunch.data, bunch.target, bunch.task_ids
    assert X.shape == (14820, 9) and X.dtype == np.float64 and np.all(np.isfinite(X))
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1} and y.sum() == 904
    np.testing.assert_array_equal(_counts(task_ids), LANDMINE_COUNTS)
    np.testing.assert_array_equal(np.bincount(task_ids, weights=y), LANDMINE_POSITIVES)
    np.testing.assert_array_equal(bunch.task_groups, [0] * 15 + [1] * 14)


# --- computer survey -------------------------------------------------------------------


def test_computer_survey(computer):
    X, y, task_ids = computer.data, computer.target, computer.task_ids
    assert X.shape == (3800, 13) and set(np.unique(X)) == {-1.0, 1.0}
    assert y.dtype == np.float64 and set(np.unique(y)) <= set(range(11))
    np.testing.assert_array_equal(_counts(task_ids), np.full(190, 20))
    design = X[:20]
    np.testing.assert_array_equal(X, np.tile(design, (190, 1)))  # same design for all
    np.testing.assert_array_equal(computer.profile_ids, np.tile(np.arange(20), 190))
    # profile 17 (1-based) = first row of Lenk's validation design matrix
    np.testing.assert_array_equal(design[16], [1, 1, 1, -1, -1, 1, 1, 1, -1, -1, 1, -1, 1])
    assert computer.feature_names[0] == "hot_line" and computer.feature_names[-1] == "price"
    assert computer.task_features.shape == (190, 6)
    assert np.flatnonzero(np.bincount(task_ids, weights=y) == 0).tolist() == [122]


def test_computer_survey_ratings_match_the_text_copy(computer):
    text = _data_home("computer_survey") / "computer_survey" / "LikeBuy.txt"
    np.testing.assert_array_equal(np.loadtxt(text, skiprows=1).ravel(), computer.target)


def test_computer_survey_split_holds_out_profiles_17_to_20(computer):
    [(train, test)] = computer.splits
    assert (train.size, test.size) == (3040, 760)
    assert set(computer.profile_ids[train]) == set(range(16))
    assert set(computer.profile_ids[test]) == {16, 17, 18, 19}
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(3800))
    bias = load_computer_survey(data_home=_data_home("computer_survey"), bias=True)
    assert bias.data.shape == (3800, 14) and np.all(bias.data[:, 0] == 1)


# --- Parkinson's -----------------------------------------------------------------------


@pytest.mark.parametrize("target, low, high", [("motor", 5.0377, 39.511), ("total", 7.0, 54.992)])
def test_parkinsons(target, low, high):
    bunch = load_parkinsons(data_home=_data_home("parkinsons"), target=target)
    X, y, task_ids = bunch.data, bunch.target, bunch.task_ids
    assert X.shape == (5875, 19) and y.shape == (5875,)
    assert bunch.feature_names[:3] == ["age", "sex", "test_time"]
    assert bunch.feature_names[-1] == "PPE" and "motor_UPDRS" not in bunch.feature_names
    counts = _counts(task_ids)
    assert counts.size == 42 and counts.min() == 101 and counts.max() == 168
    assert (y.min(), y.max()) == (low, high)
    for col in (0, 1):  # age and sex are patient attributes
        first = X[np.searchsorted(task_ids, np.arange(42)), col]
        np.testing.assert_array_equal(first[task_ids], X[:, col])


# --- SARCOS ----------------------------------------------------------------------------


def test_sarcos_is_multi_output():
    X, Y, task_ids = load_sarcos(data_home=_data_home("sarcos"), return_X_y_tasks=True)
    assert X.shape == (4449, 21) and Y.shape == (4449, 7) and task_ids is None
    np.testing.assert_allclose(
        Y.std(axis=0), [20.35, 14.90, 9.95, 13.76, 0.97, 1.71, 2.59], atol=0.006
    )


# --- common behaviour ------------------------------------------------------------------


@pytest.mark.parametrize("folder", LOADERS)
def test_bunch_and_tuple_agree(folder):
    home = _data_home(folder)
    bunch = LOADERS[folder](data_home=home)
    X, y, task_ids = LOADERS[folder](data_home=home, return_X_y_tasks=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
    assert (task_ids is None) == (bunch.task_ids is None)
    if task_ids is not None:
        assert task_ids.dtype == np.int64
        np.testing.assert_array_equal(task_ids, bunch.task_ids)
        np.testing.assert_array_equal(np.unique(task_ids), np.arange(task_ids.max() + 1))
    assert X.flags.c_contiguous and X.dtype == np.float64
    readme = (home / folder / "README.md").read_text(encoding="utf-8")
    assert bunch.DESCR == readme
    if bunch.feature_names is not None:
        assert len(bunch.feature_names) == X.shape[1]


def test_environment_variable_is_the_default_home(monkeypatch):
    home = _data_home("computer_survey")
    monkeypatch.setenv(_loaders.ENV_VAR, str(home))
    X, _, _ = load_computer_survey(return_X_y_tasks=True)
    assert X.shape == (3800, 13)


def test_get_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv(_loaders.ENV_VAR, str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv(_loaders.ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert get_data_home() == tmp_path / "cache" / "mtreg"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert get_data_home() == Path.home() / ".cache" / "mtreg"
    assert get_data_home("~/x") == Path.home() / "x"
    assert not (tmp_path / "env").exists()  # never created by asking


def test_checksums_match_the_shared_sums_file():
    sums = _data_home("SHA256SUMS") / "SHA256SUMS"
    listed = dict(line.split()[::-1] for line in sums.read_text().splitlines() if line.strip())
    for name, digest in _loaders._SHA256.items():
        assert listed["./" + name] == digest, name


@pytest.mark.parametrize("folder", LOADERS)
def test_missing_file_says_where_to_put_it(folder, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        LOADERS[folder](data_home=tmp_path)
    message = str(info.value)
    assert str(tmp_path / folder) in message
    assert _loaders.ENV_VAR in message and "download_if_missing=True" in message
    assert "https://raw.githubusercontent.com/" in message
    assert not (tmp_path / folder).exists()  # no download without being asked


def test_foreign_file_fails_the_checksum(tmp_path):
    path = tmp_path / COMPUTER_MAT
    path.parent.mkdir()
    path.write_bytes(b"not the survey")
    with pytest.raises(OSError, match="SHA-256 checksum mismatch") as info:
        load_computer_survey(data_home=tmp_path)
    assert str(path) in str(info.value) and _loaders._URLS[COMPUTER_MAT] in str(info.value)


def test_flipped_byte_fails_the_checksum(tmp_path):
    source = _data_home("computer_survey") / COMPUTER_MAT
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / "computer_survey").mkdir()
    (tmp_path / COMPUTER_MAT).write_bytes(bytes(data))
    with pytest.raises(OSError, match="SHA-256 checksum mismatch"):
        load_computer_survey(data_home=tmp_path)


# --- download (from file:// URLs only) -------------------------------------------------


def _serve(monkeypatch, name, path):
    monkeypatch.setitem(_loaders._URLS, name, Path(path).resolve().as_uri())


def test_download_into_empty_home(monkeypatch, tmp_path):
    home = _data_home("school")
    for name in _loaders._SHA256:
        if name.startswith("school/"):
            _serve(monkeypatch, name, home / name)
    cache = tmp_path / "cache"
    bunch = load_school(data_home=cache, download_if_missing=True)
    assert sorted(p.name for p in (cache / "school").iterdir()) == sorted(
        n.split("/")[1] for n in _loaders._SHA256 if n.startswith("school/")
    )
    reference = load_school(data_home=home)
    np.testing.assert_array_equal(bunch.data, reference.data)
    for (train, test), (ref_train, ref_test) in zip(bunch.splits, reference.splits, strict=True):
        np.testing.assert_array_equal(train, ref_train)
        np.testing.assert_array_equal(test, ref_test)
    # present files are read, not downloaded again
    monkeypatch.setattr(_loaders, "_urlopen", None)
    load_school(data_home=cache, download_if_missing=True)


def test_download_through_the_environment_variable(monkeypatch, tmp_path):
    _serve(monkeypatch, COMPUTER_MAT, _data_home("computer_survey") / COMPUTER_MAT)
    monkeypatch.setenv(_loaders.ENV_VAR, str(tmp_path))
    X, _, _ = load_computer_survey(download_if_missing=True, return_X_y_tasks=True)
    assert X.shape == (3800, 13) and (tmp_path / COMPUTER_MAT).is_file()


def test_corrupted_download_is_not_kept(monkeypatch, tmp_path):
    data = bytearray((_data_home("computer_survey") / COMPUTER_MAT).read_bytes())
    data[-1] ^= 0xFF
    served = tmp_path / "served.mat"
    served.write_bytes(bytes(data))
    _serve(monkeypatch, COMPUTER_MAT, served)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="SHA-256 checksum mismatch") as info:
        load_computer_survey(data_home=cache, download_if_missing=True)
    assert served.as_uri() in str(info.value)
    assert not (cache / COMPUTER_MAT).exists()
    assert not list(cache.rglob("*.part"))


def test_download_with_a_monkeypatched_opener(monkeypatch, tmp_path):
    """The opener is the only network access; a fake one serves the bytes."""
    import io

    data = (_data_home("sarcos") / "sarcos/sarcos_inv_test.mat").read_bytes()
    requested = []

    def fake_urlopen(url, timeout):
        requested.append(url)
        return io.BytesIO(data)

    monkeypatch.setattr(_loaders, "_urlopen", fake_urlopen)
    X, Y, _ = load_sarcos(data_home=tmp_path, download_if_missing=True, return_X_y_tasks=True)
    assert requested == [_loaders._URLS["sarcos/sarcos_inv_test.mat"]]
    assert Y.shape == (4449, 7)


def test_parkinsons_download_keeps_the_first_copy(monkeypatch, tmp_path):
    """The pinned public file holds the CSV twice, the second without the last newline."""
    name = "parkinsons/parkinsons_updrs.data"
    data = (_data_home("parkinsons") / name).read_bytes()
    served = tmp_path / "doubled.data"
    served.write_bytes(data + data[:-1])
    _serve(monkeypatch, name, served)
    bunch = load_parkinsons(data_home=tmp_path / "cache", download_if_missing=True)
    assert (tmp_path / "cache" / name).read_bytes() == data
    assert bunch.data.shape == (5875, 19)
