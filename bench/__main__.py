"""``python -m bench [NAME ...]``: run every bench/*.py module's ``run()`` (or only NAMEs)."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(names: list[str]) -> None:
    modules = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not info.ispkg and not info.name.startswith("_")
    )
    for name in modules:
        if not names or name in names:
            importlib.import_module(f"bench.{name}").run()


if __name__ == "__main__":
    main(sys.argv[1:])
