"""Checks the Python bindings jsii-pacmak generated from the assembly, offline.

Usage: python3 scripts/check-python-bindings.py <pacmak python dir> <.jsii file>

- every generated .py file byte-compiles (syntax valid for this Python);
- the package's module defines a Python class for every class, interface, struct and enum of the
  assembly, and every method and property of the assembly's classes appears in its class (in
  Python's snake_case), so nothing the TypeScript API offers is missing from Python;
- the embedded JavaScript tarball (what the Python package runs through jsii's kernel) is there.

Importing the module is not possible here: it needs the `jsii`, `aws-cdk-lib` and `constructs`
Python packages from PyPI, which this machine cannot reach.
"""
import ast
import compileall
import json
import keyword
import re
import sys
from pathlib import Path


def snake_case(name: str) -> str:
    """jsii-pacmak's name for a member in Python (grantPassRole -> grant_pass_role)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z])(?=[a-z])", r"_\1\2", name).lower()


def main() -> int:
    python_dir, assembly_file = Path(sys.argv[1]), Path(sys.argv[2])
    assembly = json.loads(assembly_file.read_text())
    module = assembly["targets"]["python"]["module"]
    package_dir = python_dir / "src" / module
    problems = []

    if not compileall.compile_dir(str(python_dir / "src"), quiet=1):
        problems.append(f"some generated files under {python_dir / 'src'} do not byte-compile")

    tree = ast.parse((package_dir / "__init__.py").read_text())
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    checked_types = checked_members = 0
    for fqn, jsii_type in assembly["types"].items():
        if "namespace" in jsii_type:
            continue  # submodule types live in their own Python module (none yet)
        name = jsii_type["name"]
        node = classes.get(name)
        if node is None:
            problems.append(f"{fqn} ({jsii_type['kind']}) has no class {name} in {module}")
            continue
        checked_types += 1
        if jsii_type["kind"] != "class":
            continue
        defined = {item.name for item in ast.walk(node) if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for member in jsii_type.get("methods", []) + jsii_type.get("properties", []):
            python_name = snake_case(member["name"]).upper() if member.get("const") else snake_case(member["name"])
            if keyword.iskeyword(python_name):
                python_name += "_"  # pacmak's escape for a Python keyword (from -> from_)
            checked_members += 1
            if python_name not in defined:
                problems.append(f"{fqn}.{member['name']} has no {name}.{python_name} in {module}")

    tarballs = list((package_dir / "_jsii").glob("*.jsii.tgz"))
    if not tarballs:
        problems.append(f"no JavaScript tarball (*.jsii.tgz) in {package_dir / '_jsii'}")

    for problem in problems:
        print(f"python bindings: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"python bindings: {module}: {checked_types} types and {checked_members} class members of {assembly['name']} present, every file byte-compiles, tarball {tarballs[0].name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
