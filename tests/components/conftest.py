"""The components run inside Rasa: undo the core's TensorFlow shortcut (crs/__init__.py) when an
earlier test module imported the core first."""

import sys

if "tensorflow" in sys.modules and sys.modules["tensorflow"] is None:
    del sys.modules["tensorflow"]
