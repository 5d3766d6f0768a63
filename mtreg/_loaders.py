"""Loaders of the real multi-task data sets (school, landmine, computer survey, ...).

mtreg ships none of the files. A loader looks for them under a data home (the
``data_home`` argument, else the folder named by the environment variable ``MTREG_DATA``,
else ``~/.cache/mtreg``) in the layout ``<data_home>/school/school_b.mat``, checks the
SHA-256 of every file it reads against the table below, and with
``download_if_missing=True`` fetches missing files from a public copy pinned to a commit.
The bytes are checked before they are written, so a corrupted download never lands.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import scipy.io
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ._data_sources import _SHA256, _URLS

__all__ = [
    "get_data_home",
    "load_computer_survey",
    "load_landmine",
    "load_parkinsons",
    "load_sarcos",
    "load_school",
]

ENV_VAR = "MTREG_DATA"

_urlopen = urllib.request.urlopen  # a module attribute, so that tests can replace it


def _first_csv_copy(data):
    """The pinned Parkinson's file holds the UCI CSV twice; keep the first copy."""
    header = data[: data.index(b"\n") + 1]
    second = data.find(header, len(header))
    return data if second < 0 else data[:second]


_FIXES = {"parkinsons/parkinsons_updrs.data": _first_csv_copy}

_DATA_HOME = {"data_home": [None, str, os.PathLike]}
_COMMON = {**_DATA_HOME, "return_X_y_tasks": ["boolean"], "download_if_missing": ["boolean"]}


@validate_params(_DATA_HOME, prefer_skip_nested_validation=True)
def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder that holds (or will hold) the data folders; it is not created.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Returned as given (with ``~`` expanded). If None: the environment variable
        ``MTREG_DATA`` if set, else ``$XDG_CACHE_HOME/mtreg`` (``~/.cache/mtreg``).

    Returns
    -------
    data_home : pathlib.Path
        The folder the loaders read the data sets from (and download them into).

    See Also
    --------
    load_school : A loader that reads from this folder.
    """
    if data_home is None:
        data_home = os.environ.get(ENV_VAR) or Path(
            os.environ.get("XDG_CACHE_HOME") or "~/.cache", "mtreg"
        )
    return Path(data_home).expanduser()


def _read(name, data_home, download_if_missing):
    """The verified bytes of data file ``name`` ("<folder>/<file>")."""
    path = data_home / name
    if not path.is_file():
        if not download_if_missing:
            raise FileNotFoundError(
                f"Data file {path} not found. Put {path.name} into the folder "
                f"{path.parent}, or point the environment variable {ENV_VAR} (or the "
                f"data_home argument) at a folder holding {name}, or pass "
                f"download_if_missing=True to download it from {_URLS[name]}"
            )
        _download(name, path)
    data = path.read_bytes()
    _check_sha256(data, name, path)
    return data


def _check_sha256(data, name, source):
    digest = hashlib.sha256(data).hexdigest()
    if digest != _SHA256[name]:
        raise OSError(
            f"SHA-256 checksum mismatch for {source}: got {digest}, expected "
            f"{_SHA256[name]}. The file is corrupted or not the expected version of "
            f"{name}; delete it and load again with download_if_missing=True, or "
            f"fetch it from {_URLS[name]}"
        )


def _download(name, path):
    with _urlopen(_URLS[name], timeout=60) as response:
        data = response.read()
    data = _FIXES.get(name, bytes)(data)
    _check_sha256(data, name, _URLS[name])
    path.parent.mkdir(parents=True, exist_ok=True)
    # write beside the target and rename: readers never see a half-written file
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)


def _loadmat(name, data_home, download_if_missing):
    return scipy.io.loadmat(io.BytesIO(_read(name, data_home, download_if_missing)))


def _descr(folder, data_home, fallback):
    """The folder's README.md (documentation, not checksummed), else the loader's docstring."""
    readme = data_home / folder / "README.md"
    return readme.read_text(encoding="utf-8") if readme.is_file() else fallback


def _result(bunch, return_X_y_tasks):
    return (bunch.data, bunch.target, bunch.task_ids) if return_X_y_tasks else bunch


def _task_major_ids(counts):
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


_SCHOOL_FEATURES = (
    ["year_1985", "year_1986", "year_1987", "fsm_percent", "vr1_percent"]
    + ["gender_0", "gender_1", "vr_band_0", "vr_band_1", "vr_band_2"]
    + ["ethnic_" + g for g in ("eswi", "african", "arab", "bangladeshi", "caribbean")]
    + ["ethnic_" + g for g in ("greek", "indian", "pakistani", "se_asian", "turkish", "other")]
    + ["school_mixed", "school_boys", "school_girls"]
    + ["denomination_maintained", "denomination_cofe", "denomination_rc", "bias"]
)


@validate_params({**_COMMON, "bias": ["boolean"]}, prefer_skip_nested_validation=True)
def load_school(
    *,
    data_home: str | os.PathLike | None = None,
    bias: bool = False,
    return_X_y_tasks: bool = False,
    download_if_missing: bool = False,
) -> Bunch | tuple:
    """School (ILEA exam scores): 139 schools as tasks, 15,362 students, regression.

    Argyriou's binarised copy (``school_b.mat``) and the 10 canonical 75 % / 25 % splits
    (``school_{1..10}_indexes.mat``) of Bakker & Heskes (2003), Evgeniou & Pontil (2004)
    and Argyriou et al. (2008), who report explained variance averaged over the splits.
    Rows are task-major (all students of school 0, then of school 1, ...).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``school/``; see :func:`get_data_home`.
    bias : bool, default=False
        Keep the constant last column of the file. Off by default because the
        estimators fit intercepts.
    return_X_y_tasks : bool, default=False
        Return ``(data, target, task_ids)`` instead of the Bunch.
    download_if_missing : bool, default=False
        Download missing files (with checksum check) instead of raising.

    Returns
    -------
    data : Bunch
        - data : ndarray of shape (15362, 27), float64 (28 columns with ``bias``):
          year one-hot, % free school meals, % VR band 1, pupil gender one-hot, pupil
          VR band one-hot, ethnic group one-hot, school gender one-hot, school
          denomination one-hot. The order inside the pupil gender and VR band groups
          is undocumented; the ethnic groups follow the original codes (ESWI first).
        - target : ndarray of shape (15362,), float64, exam score 1 to 70.
        - task_ids : ndarray of shape (15362,), int64, school 0 to 138.
        - splits : list of 10 (train, test) pairs of int64 row indices, in the order
          of the files (shuffled within each school); every pair partitions the rows,
          with ``floor(0.75 n_t)`` training rows in school t. Usable as ``cv=``.
        - feature_names : list of str.
        - DESCR : str.
    (data, target, task_ids) : tuple
        The arrays of the Bunch, returned instead of it if ``return_X_y_tasks``.

    See Also
    --------
    get_data_home : The folder the data are read from.
    load_computer_survey : Another regression benchmark, 190 tasks.
    mtreg.datasets.make_multitask_regression : Synthetic data with a planted task graph.

    Examples
    --------
    >>> from mtreg import MultiTaskGraphRegressor
    >>> from mtreg.datasets import load_school
    >>> school = load_school()  # doctest: +SKIP
    >>> train, test = school.splits[0]  # doctest: +SKIP
    >>> est = MultiTaskGraphRegressor(alpha=1.0).fit(  # doctest: +SKIP
    ...     school.data[train], school.target[train], task_ids=school.task_ids[train])
    >>> est.score(  # doctest: +SKIP
    ...     school.data[test], school.target[test], task_ids=school.task_ids[test])
    """
    home = get_data_home(data_home)
    mat = _loadmat("school/school_b.mat", home, download_if_missing)
    X = mat["x"].T.astype(np.float64)  # stored as features x samples
    starts = mat["task_indexes"].ravel().astype(np.int64) - 1  # 1-based task starts
    task_ids = _task_major_ids(np.diff(np.append(starts, X.shape[0])))
    splits = []
    for i in range(1, 11):
        idx = _loadmat(f"school/school_{i}_indexes.mat", home, download_if_missing)
        splits.append(tuple(idx[k].ravel().astype(np.int64) - 1 for k in ("tr", "tst")))
    keep = slice(None) if bias else slice(0, -1)
    bunch = Bunch(
        data=np.ascontiguousarray(X[:, keep]),
        target=mat["y"].ravel().astype(np.float64),
        task_ids=task_ids,
        splits=splits,
        feature_names=_SCHOOL_FEATURES[keep],
        DESCR=_descr("school", home, load_school.__doc__),
    )
    return _result(bunch, return_X_y_tasks)


@validate_params(_COMMON, prefer_skip_nested_validation=True)
def load_landmine(
    *,
    data_home: str | os.PathLike | None = None,
    return_X_y_tasks: bool = False,
    download_if_missing: bool = False,
) -> Bunch | tuple:
    """Landmine detection (Xue et al., 2007): 29 mine fields as tasks, classification.

    14,820 radar readings with 9 image features; 904 (6.1 %) are landmines, so papers
    report the AUC. Fields 0 to 14 are highly foliated, fields 15 to 28 bare earth or
    desert. Rows are task-major, in the order of the file.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``landmine/``; see :func:`get_data_home`.
    return_X_y_tasks : bool, default=False
        Return ``(data, target, task_ids)`` instead of the Bunch.
    download_if_missing : bool, default=False
        Download the missing file (with checksum check) instead of raising.

    Returns
    -------
    data : Bunch
        - data : ndarray of shape (14820, 9), float64.
        - target : ndarray of shape (14820,), int64 in {0, 1}: 1 = landmine,
          0 = clutter, as in the file (``2 * target - 1`` gives {-1, +1}).
        - task_ids : ndarray of shape (14820,), int64, field 0 to 28.
        - task_groups : ndarray of shape (29,), int64: 0 = foliated, 1 = bare earth.
        - feature_names : None (the file does not name the features).
        - DESCR : str.
    (data, target, task_ids) : tuple
        The arrays of the Bunch, returned instead of it if ``return_X_y_tasks``.

    See Also
    --------
    get_data_home : The folder the data are read from.
    mtreg.datasets.make_multitask_classification : Synthetic classification data with a
        planted task graph.
    """
    home = get_data_home(data_home)
    mat = _loadmat("landmine/LandmineData.mat", home, download_if_missing)
    features, labels = mat["feature"].ravel(), mat["label"].ravel()
    bunch = Bunch(
        data=np.ascontiguousarray(np.concatenate(features), dtype=np.float64),
        target=np.concatenate(labels).ravel().astype(np.int64),
        task_ids=_task_major_ids([f.shape[0] for f in features]),
        task_groups=np.repeat(np.arange(2, dtype=np.int64), [15, 14]),
        feature_names=None,
        DESCR=_descr("landmine", home, load_landmine.__doc__),
    )
    return _result(bunch, return_X_y_tasks)


_COMPUTER_FEATURES = [
    "bias", "hot_line", "ram", "screen_size", "cpu_speed", "hard_disk", "cd_rom", "cache",
    "color", "availability", "warranty", "software", "guarantee", "price",
]  # fmt: skip
_RESPONDENT_FEATURES = ["female", "nerd", "usa", "own", "apply", "expert"]


@validate_params({**_COMMON, "bias": ["boolean"]}, prefer_skip_nested_validation=True)
def load_computer_survey(
    *,
    data_home: str | os.PathLike | None = None,
    bias: bool = False,
    return_X_y_tasks: bool = False,
    download_if_missing: bool = False,
) -> Bunch | tuple:
    """Computer survey (Lenk et al., 1996): 190 respondents as tasks, regression.

    Every respondent rated the same 20 computer profiles (13 binary attributes coded
    -1/+1) from 0 to 10 (likelihood of purchase). Profiles 0 to 15 are Lenk's
    calibration profiles and 16 to 19 his hold-out validation profiles: ``splits``
    holds that one train/test split. Papers use 180 (or 179) of the respondents; which
    ones is not documented, so all 190 are returned (respondent 122 rated every
    profile 0). Rows are task-major: respondent t has rows 20 t to 20 t + 19.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``computer_survey/``; see :func:`get_data_home`.
    bias : bool, default=False
        Keep the constant first column of the design matrix.
    return_X_y_tasks : bool, default=False
        Return ``(data, target, task_ids)`` instead of the Bunch.
    download_if_missing : bool, default=False
        Download the missing file (with checksum check) instead of raising.

    Returns
    -------
    data : Bunch
        - data : ndarray of shape (3800, 13), float64 in {-1, +1} (14 columns with
          ``bias``): the 20 x 13 design matrix repeated for every respondent.
        - target : ndarray of shape (3800,), float64, rating 0 to 10.
        - task_ids : ndarray of shape (3800,), int64, respondent 0 to 189.
        - profile_ids : ndarray of shape (3800,), int64, profile 0 to 19.
        - splits : list of one (train, test) pair of int64 row indices: profiles
          0-15 (3040 rows) and 16-19 (760 rows).
        - task_features : ndarray of shape (190, 6), float64, respondent covariates
          (female, engineer, US citizen, owns a computer, number of applications used,
          self-assessed expertise), e.g. to build a task graph.
        - feature_names, task_feature_names : list of str.
        - DESCR : str.
    (data, target, task_ids) : tuple
        The arrays of the Bunch, returned instead of it if ``return_X_y_tasks``.

    See Also
    --------
    get_data_home : The folder the data are read from.
    load_school : A regression benchmark, 139 tasks.
    """
    home = get_data_home(data_home)
    mat = _loadmat("computer_survey/conjointAnalysisComputerBuyers.mat", home, download_if_missing)
    design, ratings = mat["designMarix"].astype(np.float64), mat["likeBuy"]  # sic
    n_tasks, n_profiles = ratings.shape
    keep = slice(None) if bias else slice(1, None)
    profile_ids = np.tile(np.arange(n_profiles, dtype=np.int64), n_tasks)
    held_out = profile_ids >= 16
    bunch = Bunch(
        data=np.tile(design[:, keep], (n_tasks, 1)),
        target=ratings.ravel().astype(np.float64),
        task_ids=_task_major_ids(np.full(n_tasks, n_profiles)),
        profile_ids=profile_ids,
        splits=[(np.flatnonzero(~held_out), np.flatnonzero(held_out))],
        task_features=mat["computerDataZ"][:, 1:].astype(np.float64),
        feature_names=_COMPUTER_FEATURES[keep],
        task_feature_names=list(_RESPONDENT_FEATURES),
        DESCR=_descr("computer_survey", home, load_computer_survey.__doc__),
    )
    return _result(bunch, return_X_y_tasks)


@validate_params(
    {**_COMMON, "target": [StrOptions({"motor", "total"})]}, prefer_skip_nested_validation=True
)
def load_parkinsons(
    *,
    data_home: str | os.PathLike | None = None,
    target: str = "motor",
    return_X_y_tasks: bool = False,
    download_if_missing: bool = False,
) -> Bunch | tuple:
    """Load Parkinson's telemonitoring (UCI; Tsanas et al., 2010): 42 patients as tasks.

    5,875 voice recordings, 101 to 168 per patient, regression of a UPDRS score.
    Rows are in the order of the file, which is grouped by patient.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``parkinsons/``; see :func:`get_data_home`.
    target : {"motor", "total"}, default="motor"
        The score to predict: ``motor_UPDRS`` (5.0 to 39.5) or ``total_UPDRS``
        (7.0 to 55.0). Papers that use both treat them as 84 tasks.
    return_X_y_tasks : bool, default=False
        Return ``(data, target, task_ids)`` instead of the Bunch.
    download_if_missing : bool, default=False
        Download the missing file (with checksum check) instead of raising.

    Returns
    -------
    data : Bunch
        - data : ndarray of shape (5875, 19), float64: age, sex, test_time, then the
          16 voice measures. Age and sex are constant within each patient.
        - target : ndarray of shape (5875,), float64.
        - task_ids : ndarray of shape (5875,), int64, patient 0 to 41 (the file's
          ``subject#`` minus 1).
        - feature_names : list of str, as in the file's header.
        - DESCR : str.
    (data, target, task_ids) : tuple
        The arrays of the Bunch, returned instead of it if ``return_X_y_tasks``.

    See Also
    --------
    get_data_home : The folder the data are read from.
    load_school : A regression benchmark, 139 tasks.
    """
    home = get_data_home(data_home)
    text = _read("parkinsons/parkinsons_updrs.data", home, download_if_missing).decode()
    header, _, body = text.partition("\n")
    names = header.strip().split(",")
    table = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2)
    not_features = ("subject#", "motor_UPDRS", "total_UPDRS")
    features = [i for i, n in enumerate(names) if n not in not_features]
    bunch = Bunch(
        data=np.ascontiguousarray(table[:, features]),
        target=table[:, names.index(f"{target}_UPDRS")].copy(),
        task_ids=table[:, names.index("subject#")].astype(np.int64) - 1,
        feature_names=[names[i] for i in features],
        DESCR=_descr("parkinsons", home, load_parkinsons.__doc__),
    )
    return _result(bunch, return_X_y_tasks)


_JOINTS = range(1, 8)
_SARCOS_FEATURES = [f"{kind}_{j}" for kind in ("pos", "vel", "acc") for j in _JOINTS]


@validate_params(_COMMON, prefer_skip_nested_validation=True)
def load_sarcos(
    *,
    data_home: str | os.PathLike | None = None,
    return_X_y_tasks: bool = False,
    download_if_missing: bool = False,
) -> Bunch | tuple:
    """SARCOS robot arm inverse dynamics, test file only: 7 joint torques as tasks.

    The 4,449 rows of ``sarcos_inv_test.mat`` (GPML data page; Vijayakumar et al.).
    Every task is observed at the same inputs, so the target is multi-output and
    ``task_ids`` is None, as :class:`mtreg.MultiTaskGraphRegressor` expects. Papers
    subsample the 44,484-row training file (not included) and report per-task nMSE;
    use this file for tests and small benchmarks with random splits.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``sarcos/``; see :func:`get_data_home`.
    return_X_y_tasks : bool, default=False
        Return ``(data, target, None)`` instead of the Bunch.
    download_if_missing : bool, default=False
        Download the missing file (with checksum check) instead of raising.

    Returns
    -------
    data : Bunch
        - data : ndarray of shape (4449, 21), float64: 7 joint positions, 7
          velocities, 7 accelerations.
        - target : ndarray of shape (4449, 7), float64: column t is the torque of
          joint t + 1.
        - task_ids : None.
        - feature_names, target_names : list of str.
        - DESCR : str.
    (data, target, None) : tuple
        The arrays of the Bunch, returned instead of it if ``return_X_y_tasks``.

    See Also
    --------
    get_data_home : The folder the data are read from.
    load_parkinsons : Another regression benchmark, 42 patients as tasks.
    mtreg.datasets.make_multitask_regression : Synthetic multi-output data with
        ``shared_X=True``.
    """
    home = get_data_home(data_home)
    table = _loadmat("sarcos/sarcos_inv_test.mat", home, download_if_missing)["sarcos_inv_test"]
    bunch = Bunch(
        data=np.ascontiguousarray(table[:, :21], dtype=np.float64),
        target=np.ascontiguousarray(table[:, 21:], dtype=np.float64),
        task_ids=None,
        feature_names=list(_SARCOS_FEATURES),
        target_names=[f"torque_{j}" for j in _JOINTS],
        DESCR=_descr("sarcos", home, load_sarcos.__doc__),
    )
    return _result(bunch, return_X_y_tasks)
