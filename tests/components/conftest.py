"""The components run inside Rasa: undo the core's TensorFlow shortcut (crs/__init__.py) when an
earlier test module imported the core first. Done as each file here is collected, not when this
conftest loads: pytest loads it at start-up when this folder is named on the command line, before
the core is imported by modules collected earlier."""

import sys


def _undo_shortcut() -> None:
    if "tensorflow" in sys.modules and sys.modules["tensorflow"] is None:
        del sys.modules["tensorflow"]


_undo_shortcut()


def pytest_collect_file(file_path, parent):  # noqa: ARG001 - pytest hook signature
    _undo_shortcut()
    return None
