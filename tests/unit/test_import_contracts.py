"""The import contracts of pyproject.toml ([tool.importlinter]): the services
import none of each other, services.common imports no service, and the gateway
imports from the services only services.common and their schema modules."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept():
    result = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import "
                             "lint_imports_command; sys.exit(lint_imports_command())",
                             "--no-cache", "--no-logo"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
