"""Builds the package with the gRPC code generated from proto/stratus/v1.

The messages come from Debian's protoc (protobuf-compiler 3.21, matching python3-protobuf) and
the service stubs from its grpc_python_plugin (protobuf-compiler-grpc 1.51, matching
python3-grpcio). Debian's python3-grpc-tools bundles a protoc too old for proto3 `optional`
fields, which the Stratus protos use. The generated `stratus.v1` modules are written into the
build folder only, never into the source tree.

Environment: STRATUS_PROTO_DIR (default: ../../proto beside this file), PROTOC, and
GRPC_PYTHON_PLUGIN override where the protos and the tools are.
"""
import os
import pathlib
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent


def _tool(env, name):
    path = os.environ.get(env) or shutil.which(name)
    if not path:
        raise SystemExit(f"stratus-client: {name} not found (Debian: protobuf-compiler, "
                         f"protobuf-compiler-grpc), or set {env}")
    return path


def generate(out_dir: pathlib.Path) -> None:
    proto_root = pathlib.Path(os.environ.get("STRATUS_PROTO_DIR", HERE.parent.parent / "proto"))
    # stratus/v1: the API; google/rpc: the standard error details its errors carry.
    protos = sorted((proto_root / "stratus" / "v1").glob("*.proto")) + sorted(
        (proto_root / "google" / "rpc").glob("*.proto"))
    if not protos:
        raise SystemExit(f"stratus-client: no protos under {proto_root}/stratus/v1 "
                         "(set STRATUS_PROTO_DIR)")
    out_dir.mkdir(parents=True, exist_ok=True)
    plugin = _tool("GRPC_PYTHON_PLUGIN", "grpc_python_plugin")
    cmd = [_tool("PROTOC", "protoc"), f"-I{proto_root}", "-I/usr/include",
           f"--python_out={out_dir}", f"--pyi_out={out_dir}", f"--grpc_python_out={out_dir}",
           f"--plugin=protoc-gen-grpc_python={plugin}"] + [str(p) for p in protos]
    subprocess.run(cmd, check=True)
    for pkg in (out_dir / "stratus", out_dir / "stratus" / "v1"):
        (pkg / "__init__.py").touch()


class BuildPyWithProtos(build_py):
    def run(self):
        super().run()
        generate(pathlib.Path(self.build_lib))


setup(cmdclass={"build_py": BuildPyWithProtos})
