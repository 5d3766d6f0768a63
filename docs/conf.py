"""Sphinx configuration of the mtreg documentation.

Build (warnings are errors; the gallery in examples/ runs during the build):

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's mtreg, also without an editable install

import mtreg  # noqa: E402  (after the path: the checkout's, not another installed copy)

# The gallery loads the real data sets: MTREG_DATA, else ../shared/data beside the
# checkout (the rule of the tests and the benchmarks)
if not os.environ.get("MTREG_DATA") and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["MTREG_DATA"] = str(ROOT.parent / "shared" / "data")
os.environ.setdefault("MPLBACKEND", "Agg")

project = "mtreg"
author = "the mtreg developers"
copyright = "the mtreg developers, BSD-3-Clause"  # noqa: A001 (Sphinx's name)
release = mtreg.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinx_design",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "sklearn_tools.md"]  # included by the guide
templates_path = ["_templates"]

# --- API reference: one page per public object, from the docstrings
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
toc_object_entries_show_parents = "hide"  # "fit()" in a page's contents, not "Class.fit()"
numpydoc_show_class_members = False  # the class template lists the members
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# --- Markdown pages (MyST): $...$ and $$...$$ math, ::: fences, heading anchors
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# --- Gallery: every examples/plot_*.py runs during the build and renders its figures
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # "Examples using X" under each API page (the templates include these files)
    "doc_module": ("mtreg",),
    "backreferences_dir": "generated",
    "reference_url": {"mtreg": None},
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "remove_config_comments": True,
    "show_memory": False,
    "abort_on_example_error": False,  # report every broken example; -W then fails the build
    "only_warn_on_example_error": False,
}

# --- HTML: the PyData theme (MathJax for the math)
html_theme = "pydata_sphinx_theme"
html_title = f"mtreg {release}"
html_static_path = ["_static"]
html_css_files = ["mtreg.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_sidebars = {"user_guide/bench/*": []}  # the benchmark reports' wide tables
html_context = {"default_mode": "light"}
html_show_sourcelink = False
# A local MathJax for offline reading (the default is Sphinx's CDN copy of MathJax 3), e.g.
# Debian's MathJax 2: file:///usr/share/javascript/mathjax/MathJax.js?config=TeX-AMS_CHTML.
# MyST marks the page "ignore math" and the formulas "math": MathJax 2 is told so here
# (MathJax 3 reads MyST's own setting).
if os.environ.get("MTREG_DOCS_MATHJAX"):
    mathjax_path = os.environ["MTREG_DOCS_MATHJAX"]
    mathjax2_config = {
        "tex2jax": {
            "processClass": "math|tex2jax_process|mathjax_process",
            "ignoreClass": "tex2jax_ignore|mathjax_ignore",
        }
    }
