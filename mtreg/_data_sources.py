"""The files the data-set loaders read: their SHA-256 digests and pinned public copies."""

# The lines of the data's SHA256SUMS file for the files the loaders read.
_SHA256SUMS = """
6e6b5f98f438c7d15ed6c7adab44322c9345f52263a4f3026322019f184679b5  ./computer_survey/conjointAnalysisComputerBuyers.mat
2163ab20a80e33a8b65593c48cf283c540599dcb291105e63fa4af2ce24c2bea  ./landmine/LandmineData.mat
cacdc7007846c68ca852cb3dbb43b1f68b7a9edefa2336f965f6610551cd30e6  ./parkinsons/parkinsons_updrs.data
161a59b5c3b4f4b404584323f181607b2acbe620eb134dc720760dc3f38f5cec  ./sarcos/sarcos_inv_test.mat
b408742eab66cd124563493057b080fd39e5075f48b4c391c53e5f6a1a4c8df1  ./school/school_10_indexes.mat
030c9ca0a73d6264aa1eeac49aba1d760a1b5692cd3124667e74a7a2b7751bc5  ./school/school_1_indexes.mat
63d3a076a4cdd3de81825d3cf0c030b93bdc60e912eaed4763ee224efab163f8  ./school/school_2_indexes.mat
f7f68e3adb50db8094e230c2b83d548790379cd93ad98fadb35ff2999762dbe6  ./school/school_3_indexes.mat
02643928224056a61e25dec8d4841dba5195ed9affdc76fdc697854a2506d142  ./school/school_4_indexes.mat
6ed00a453d582dce4397f6f49120cff803c22f53cfb2dd63a3826c359c24bcdf  ./school/school_5_indexes.mat
ca853babe5b7f0f5812e7f4261f8b5e5728f1b3b06711e56a76b27b7f959f379  ./school/school_6_indexes.mat
b72105509c70f94f48c7c8b0e1359c6c0ea630c7ac588337b412f946ede62283  ./school/school_7_indexes.mat
8ad60073b135220f1a6f49fdd79b4430b6a0c8ce9925a22dcc5a09141f5b1c04  ./school/school_8_indexes.mat
0de74247d93c413b690ebb65e2e7beb1c55f05b2a2d5db46469e673a552cccf2  ./school/school_9_indexes.mat
973f1ca99d0d41a838ec6ae86001a48e7b69391eb74646b9e4fc54f62866a146  ./school/school_b.mat
"""  # noqa: E501
_SHA256 = {
    name.removeprefix("./"): digest
    for digest, name in (line.split() for line in _SHA256SUMS.strip().splitlines())
}

# Public copies, pinned to the commits the checksums were taken from (see each README).
_RAW = "https://raw.githubusercontent.com/"
_URL_FOLDERS = {
    "school": _RAW + "tjanez/PyMTL/970607e070b2a0d616d6c6248e6485b99cbb0d8c/data/school/",
    "landmine": _RAW
    + "daizhongxiang/Federated_Bayesian_Optimization/9f46a1dfbbcfd5823e026ad9418a4cb881676ae9/",
    "computer_survey": _RAW
    + "tjanez/PyMTL/4dde496de58f570a4b493c3bd99fb550c12c11de/data/computer_survey/",
    "parkinsons": _RAW
    + "behnazrzf/Parkinson-s_Telemonitoring/ba4c9fc9d942920f7d31560226b7f274c6d82fe5/",
    "sarcos": _RAW + "probml/pmtkdata/1f3ffa3d21a38c8e9e5010dcedb71262b35b446a/",
}
_URLS = {name: _URL_FOLDERS[name.split("/")[0]] + name.split("/")[1] for name in _SHA256}
