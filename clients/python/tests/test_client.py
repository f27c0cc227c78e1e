"""Tests of the Python client: pip installs it (offline) into a temporary folder, runs the
README's example against a real detector service (stratus-fake-detector, answering from the
face-api reference outputs), and checks the API key and the retry policy against in-process
servers built on the generated servicers.

Environment (ctest sets it): STRATUS_SOURCE_DIR, STRATUS_SHARED_DIR, STRATUS_FAKE_DETECTOR.
"""
import hashlib
import json
import os
import secrets
import string
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
from concurrent import futures
from pathlib import Path

SOURCE = Path(os.environ.get("STRATUS_SOURCE_DIR", Path(__file__).resolve().parents[3]))
SHARED = Path(os.environ.get("STRATUS_SHARED_DIR", SOURCE.parent / "shared"))
GOLDEN = SHARED / "golden" / "faceapi"
_tmp = None
_site = None


def setUpModule():
    global _tmp, _site
    _tmp = Path(tempfile.mkdtemp(prefix="stratus-pyclient-"))
    src = _tmp / "src"
    shutil.copytree(SOURCE / "clients" / "python", src,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    _site = _tmp / "site"
    env = dict(os.environ, STRATUS_PROTO_DIR=str(SOURCE / "proto"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation",
                    "--no-deps", "--no-index", "--root-user-action=ignore", "--target",
                    str(_site), str(src)], check=True, env=env)
    sys.path.insert(0, str(_site))


def tearDownModule():
    if _tmp:
        shutil.rmtree(_tmp, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_key(key_id):
    """A fresh API key `stk_<key_id>_<secret>` and its line for an --api-keys-file."""
    alphabet = string.ascii_letters + string.digits
    key = f"stk_{key_id}_" + "".join(secrets.choice(alphabet) for _ in range(32))
    return key, f"{key_id} {hashlib.sha256(key.encode()).hexdigest()} *:read python client test"


TLS_VARIABLES = ("STRATUS_TLS_CA", "STRATUS_TLS_CLIENT_CERT", "STRATUS_TLS_CLIENT_KEY",
                 "STRATUS_DATA_DIR")


def make_pki(folder):
    """A CA, a server certificate for localhost and 127.0.0.1, and a client certificate, all
    signed by the CA, made with openssl; returns {name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    f = {n: str(folder / n) for n in ("ca.pem", "ca.key", "server.pem", "server.key",
                                      "client.pem", "client.key", "ext")}

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f["ca.key"], "-out", f["ca.pem"], "-days", "2", "-subj", "/CN=test CA")
    Path(f["ext"]).write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for who in ("server", "client"):
        csr = str(folder / f"{who}.csr")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f[f"{who}.key"], "-out", csr, "-subj", f"/CN={who}")
        run("x509", "-req", "-in", csr, "-CA", f["ca.pem"], "-CAkey", f["ca.key"],
            "-CAcreateserial", "-out", f[f"{who}.pem"], "-days", "2", "-extfile", f["ext"])
    return f


def readme_example():
    text = (SOURCE / "clients" / "python" / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "the README has one python example"
    return blocks[0]


class InstalledPackageTest(unittest.TestCase):
    def test_generated_modules_and_client_are_installed(self):
        self.assertTrue((_site / "stratus" / "v1" / "detector_pb2_grpc.py").exists())
        self.assertTrue((_site / "stratus" / "v1" / "detector_pb2.pyi").exists())
        self.assertTrue((_site / "stratus_client" / "__init__.py").exists())
        # The source tree stays clean: nothing generated next to the package.
        self.assertFalse((SOURCE / "clients" / "python" / "stratus").exists())


class FakeDetectorTest(unittest.TestCase):
    """Against stratus-fake-detector over real gRPC."""

    @classmethod
    def setUpClass(cls):
        binary = os.environ.get("STRATUS_FAKE_DETECTOR")
        if not binary or not os.access(binary, os.X_OK):
            raise unittest.SkipTest("STRATUS_FAKE_DETECTOR is not set to the built binary")
        if not (GOLDEN / "sample1.png").exists():
            raise unittest.SkipTest(f"no face-api reference outputs in {GOLDEN}")
        import grpc
        cls.port = free_port()
        cls.key, line = make_key("pyclienttest")
        keys_file = _tmp / "api-keys"
        keys_file.write_text(line + "\n")
        cls.log = open(_tmp / "fake-detector.log", "wb")
        cls.proc = subprocess.Popen([binary, "--grpc-port", str(cls.port), "--golden-dir",
                                     str(GOLDEN), "--api-keys-file", str(keys_file)],
                                    stdout=cls.log, stderr=subprocess.STDOUT)
        channel = grpc.insecure_channel(f"127.0.0.1:{cls.port}")
        try:
            grpc.channel_ready_future(channel).result(timeout=30)
        finally:
            channel.close()

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(timeout=10)
        cls.log.close()

    def test_readme_example_prints_the_faces(self):
        script = _tmp / "example.py"
        script.write_text(readme_example())
        out = subprocess.run(
            [sys.executable, str(script), f"127.0.0.1:{self.port}", str(GOLDEN / "sample1.png")],
            check=True, capture_output=True, text=True,
            env=dict(os.environ, PYTHONPATH=str(_site), STRATUS_API_KEY=self.key)).stdout
        got = [[float(x) for x in line.split()] for line in out.splitlines()]
        golden = json.loads((GOLDEN / "sample1.json").read_text())["ssdMobilenetv1"]
        want = sorted(
            ([f["detection"]["score"], f["detection"]["relativeBox"]["x"],
              f["detection"]["relativeBox"]["y"], f["detection"]["relativeBox"]["width"],
              f["detection"]["relativeBox"]["height"]]
             for f in golden if f["detection"]["score"] >= 0.5),
            key=lambda f: -f[3] * f[4])
        self.assertGreater(len(want), 0)
        self.assertEqual(len(got), len(want), out)
        for g, w in zip(got, want):
            for a, b in zip(g, w):
                self.assertAlmostEqual(a, b, places=3)

    def test_a_bad_image_is_invalid_argument(self):
        import grpc
        import stratus_client
        from stratus.v1 import common_pb2, detector_pb2
        with stratus_client.Client(f"127.0.0.1:{self.port}", api_key=self.key) as client:
            with self.assertRaises(grpc.RpcError) as caught:
                client.detector.AnalyzeFaces(detector_pb2.AnalyzeFacesRequest(
                    image=common_pb2.Image(bytes=b"not an image")), timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        # The fake attaches no ErrorInfo (the real detector does; see InProcessServerTest).
        self.assertIsNone(stratus_client.error_info(caught.exception))

    def test_the_service_refuses_a_missing_or_unknown_key(self):
        import grpc
        import stratus_client
        from stratus.v1 import detector_pb2
        stranger, _ = make_key("pyclientnone")
        for key, says in (("", "missing API key"), (stranger, "unknown API key")):
            with stratus_client.Client(f"127.0.0.1:{self.port}", api_key=key) as client:
                with self.assertRaises(grpc.RpcError) as caught:
                    client.detector.ListModels(detector_pb2.ListModelsRequest(), timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            self.assertIn(says, caught.exception.details())


class InProcessServerTest(unittest.TestCase):
    """The metadata and the retries on the wire, seen by a server built on the generated code."""

    def setUp(self):
        import grpc
        from stratus.v1 import detector_pb2, detector_pb2_grpc
        test = self
        self.metadata = []
        self.unavailable_left = 0

        class Detector(detector_pb2_grpc.DetectorServiceServicer):
            def ListModels(self, request, context):
                test.metadata.append(dict(context.invocation_metadata()))
                if test.unavailable_left > 0:
                    test.unavailable_left -= 1
                    context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
                return detector_pb2.ListModelsResponse()

            def AnalyzeFaces(self, request, context):
                # What common/status.cc's ToGrpcStatus sends: a google.rpc.Status holding an
                # ErrorInfo.
                from google.rpc import error_details_pb2, status_pb2
                status = status_pb2.Status(code=3, message="bad image")
                status.details.add().Pack(error_details_pb2.ErrorInfo(
                    reason="InvalidImageFormatException", domain="stratus",
                    metadata={"field": "image"}))
                context.set_trailing_metadata(
                    [("grpc-status-details-bin", status.SerializeToString())])
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad image")

            def DetectStream(self, request_iterator, context):
                test.metadata.append(dict(context.invocation_metadata()))
                for r in request_iterator:
                    yield detector_pb2.DetectResponse(sequence=r.sequence)

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        detector_pb2_grpc.add_DetectorServiceServicer_to_server(Detector(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.env = {k: os.environ.get(k) for k in ("STRATUS_API_KEY", "STRATUS_CREDENTIALS_FILE",
                                                   *TLS_VARIABLES)}
        for k in self.env:
            os.environ.pop(k, None)
        self.credentials = _tmp / f"credentials-{self.id()}"

    def tearDown(self):
        self.server.stop(None)
        for k, v in self.env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def call(self, **kwargs):
        import stratus_client
        from stratus.v1 import detector_pb2
        with stratus_client.Client(f"127.0.0.1:{self.port}", **kwargs) as client:
            client.detector.ListModels(detector_pb2.ListModelsRequest(), timeout=10)
            replies = list(client.detector.DetectStream(
                iter([detector_pb2.DetectRequest(sequence=7)]), timeout=10))
        self.assertEqual([r.sequence for r in replies], [7])
        return [m.get("authorization") for m in self.metadata]

    def test_key_from_the_credentials_file_is_sent_on_unary_and_streaming_calls(self):
        self.credentials.write_text("[stratus]\naws_access_key_id = AKIAEXAMPLE\n"
                                    "aws_secret_access_key = secret\n"
                                    "stratus_api_key = sk-file-123\n")
        os.environ["STRATUS_CREDENTIALS_FILE"] = str(self.credentials)
        self.assertEqual(self.call(), ["Bearer sk-file-123"] * 2)

    def test_environment_and_argument_take_precedence(self):
        self.credentials.write_text("[stratus]\nstratus_api_key = sk-file\n")
        os.environ["STRATUS_CREDENTIALS_FILE"] = str(self.credentials)
        os.environ["STRATUS_API_KEY"] = "sk-env"
        self.assertEqual(self.call(), ["Bearer sk-env"] * 2)
        self.metadata.clear()
        self.assertEqual(self.call(api_key="sk-arg"), ["Bearer sk-arg"] * 2)
        self.metadata.clear()
        self.assertEqual(self.call(api_key=""), [None, None])

    def test_no_key_without_file_profile_or_entry(self):
        import stratus_client
        self.assertIsNone(stratus_client.load_api_key(str(_tmp / "missing")))
        self.credentials.write_text("[default]\nstratus_api_key = other-profile\n")
        self.assertIsNone(stratus_client.load_api_key(str(self.credentials)))
        self.assertEqual(stratus_client.load_api_key(str(self.credentials), profile="default"),
                         "other-profile")
        os.environ["STRATUS_CREDENTIALS_FILE"] = str(self.credentials)
        self.assertEqual(self.call(), [None, None])

    def test_error_info_decodes_the_status_details(self):
        import grpc
        import stratus_client
        from stratus.v1 import detector_pb2
        with stratus_client.Client(f"127.0.0.1:{self.port}", api_key="") as client:
            with self.assertRaises(grpc.RpcError) as caught:
                client.detector.AnalyzeFaces(detector_pb2.AnalyzeFacesRequest(), timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        info = stratus_client.error_info(caught.exception)
        self.assertEqual(info.reason, "InvalidImageFormatException")
        self.assertEqual(dict(info.metadata), {"field": "image"})

    def test_unavailable_is_retried(self):
        self.unavailable_left = 2
        self.call(api_key="")
        self.assertEqual(len(self.metadata), 4)  # three ListModels attempts, one DetectStream


class TlsTest(unittest.TestCase):
    """TLS chosen and configured from the environment the CLI reads, against an in-process
    server that requires client certificates signed by the same CA (mTLS)."""

    @classmethod
    def setUpClass(cls):
        import grpc
        from stratus.v1 import detector_pb2, detector_pb2_grpc
        cls.pki = make_pki(_tmp / "pki")
        read = lambda name: Path(cls.pki[name]).read_bytes()  # noqa: E731

        class Detector(detector_pb2_grpc.DetectorServiceServicer):
            def ListModels(self, request, context):
                subject = context.auth_context().get("x509_common_name", [b""])[0]
                return detector_pb2.ListModelsResponse(
                    models=[detector_pb2.ModelInfo(name=subject.decode())])

        cls.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        detector_pb2_grpc.add_DetectorServiceServicer_to_server(Detector(), cls.server)
        creds = grpc.ssl_server_credentials([(read("server.key"), read("server.pem"))],
                                            root_certificates=read("ca.pem"),
                                            require_client_auth=True)
        cls.port = cls.server.add_secure_port("127.0.0.1:0", creds)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(None)

    def setUp(self):
        self.saved = {k: os.environ.pop(k, None) for k in TLS_VARIABLES}

    def tearDown(self):
        for k, v in self.saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v

    def list_models(self, **kwargs):
        import stratus_client
        from stratus.v1 import detector_pb2
        with stratus_client.Client(f"localhost:{self.port}", api_key="", **kwargs) as client:
            reply = client.detector.ListModels(detector_pb2.ListModelsRequest(), timeout=10)
        return [m.name for m in reply.models]

    def client_certificate_from_environment(self):
        os.environ["STRATUS_TLS_CLIENT_CERT"] = self.pki["client.pem"]
        os.environ["STRATUS_TLS_CLIENT_KEY"] = self.pki["client.key"]

    def test_ca_and_client_certificate_from_the_environment(self):
        os.environ["STRATUS_TLS_CA"] = self.pki["ca.pem"]
        self.client_certificate_from_environment()
        self.assertEqual(self.list_models(), ["client"])  # the server saw our certificate

    def test_the_ca_of_stratus_up_tls_in_the_data_dir(self):
        data = _tmp / "data-dir"
        (data / "tls").mkdir(parents=True, exist_ok=True)
        shutil.copy(self.pki["ca.pem"], data / "tls" / "ca.pem")
        os.environ["STRATUS_DATA_DIR"] = str(data)
        self.client_certificate_from_environment()
        import grpc
        # Without tls/enabled the CA is not taken: plaintext, which the TLS server refuses.
        with self.assertRaises(grpc.RpcError) as caught:
            self.list_models()
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)
        (data / "tls" / "enabled").write_text("")
        self.assertEqual(self.list_models(), ["client"])

    def test_without_a_client_certificate_the_handshake_fails(self):
        import grpc
        os.environ["STRATUS_TLS_CA"] = self.pki["ca.pem"]
        with self.assertRaises(grpc.RpcError) as caught:
            self.list_models()
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_arguments_take_the_place_of_the_environment(self):
        import grpc
        os.environ["STRATUS_TLS_CA"] = self.pki["ca.pem"]
        self.client_certificate_from_environment()
        with self.assertRaises(grpc.RpcError) as caught:
            self.list_models(tls=False)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)
        for k in TLS_VARIABLES:
            os.environ.pop(k, None)
        pem = lambda name: Path(self.pki[name]).read_bytes()  # noqa: E731
        self.assertEqual(self.list_models(root_certificates=pem("ca.pem"),
                                          certificate_chain=pem("client.pem"),
                                          private_key=pem("client.key")), ["client"])

    def test_unreadable_or_half_configured_files_are_named(self):
        import stratus_client
        os.environ["STRATUS_TLS_CA"] = str(_tmp / "no-such-ca.pem")
        with self.assertRaisesRegex(ValueError, "TLS CA .*no-such-ca.pem"):
            stratus_client.load_tls()
        os.environ["STRATUS_TLS_CA"] = self.pki["ca.pem"]
        os.environ["STRATUS_TLS_CLIENT_CERT"] = self.pki["client.pem"]
        with self.assertRaisesRegex(ValueError, "STRATUS_TLS_CLIENT_KEY"):
            stratus_client.load_tls()


if __name__ == "__main__":
    unittest.main()
