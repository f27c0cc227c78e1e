"""Python client for Stratus's gRPC API.

The messages and stubs are generated from proto/stratus/v1 into the ``stratus.v1`` package
(``stratus.v1.detector_pb2``, ``stratus.v1.detector_pb2_grpc``, ...); this module adds what
every caller needs around them:

- ``Client(target)``: one channel to a Stratus service with a stub for each service
  (``client.detector``, ``client.recognition``, ``client.mask``, ``client.sentiment``,
  ``client.ingest``; use the one the target serves, see ``PORTS``);
- the API key, sent as ``authorization: Bearer <key>`` metadata on every call: given
  explicitly, else ``$STRATUS_API_KEY``, else the ``stratus_api_key`` entry of profile
  ``[stratus]`` in the credentials file the CLI reads (``$STRATUS_CREDENTIALS_FILE``, default
  ``var/credentials``, which ``stratus up`` writes);
- TLS as the CLI does it: trusting ``$STRATUS_TLS_CA``, else the CA of a ``stratus up --tls``
  of the data dir (``$STRATUS_DATA_DIR``, default ``var``), presenting
  ``$STRATUS_TLS_CLIENT_CERT`` / ``$STRATUS_TLS_CLIENT_KEY`` to services that require client
  certificates;
- a service config that retries UNAVAILABLE (at most 3 attempts, with backoff);
- ``error_info(error)``: the machine-readable reason (``ErrorInfo``) a Stratus service attaches
  to a failed call.
"""

import configparser
import json
import os
from typing import Iterable, Optional, Sequence, Tuple

import grpc

from google.rpc import error_details_pb2, status_pb2
from stratus.v1 import common_pb2  # noqa: F401  (the shared messages, for users of this module)
from stratus.v1 import detector_pb2_grpc
from stratus.v1 import ingest_pb2_grpc
from stratus.v1 import mask_pb2_grpc
from stratus.v1 import recognition_pb2_grpc
from stratus.v1 import sentiment_pb2_grpc

__all__ = ["Client", "PORTS", "channel", "error_info", "load_api_key", "load_tls"]

# Default gRPC ports of the services (as `stratus up` and docker-compose run them).
PORTS = {"ingest": 50051, "detector": 50052, "recognition": 50053, "mask": 50054,
         "sentiment": 50055}

DEFAULT_CREDENTIALS_FILE = os.path.join("var", "credentials")
PROFILE = "stratus"
API_KEY_ENTRY = "stratus_api_key"

_SERVICE_CONFIG = json.dumps({
    "methodConfig": [{
        "name": [{"service": f"stratus.v1.{s}"} for s in (
            "DetectorService", "RecognitionService", "MaskService", "SentimentService",
            "IngestService")],
        "retryPolicy": {
            "maxAttempts": 3,
            "initialBackoff": "0.2s",
            "maxBackoff": "2s",
            "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE"],
        },
    }]
})


def load_api_key(path: Optional[str] = None, profile: str = PROFILE) -> Optional[str]:
    """Returns the API key to send, or None when there is none.

    ``$STRATUS_API_KEY`` wins; otherwise the ``stratus_api_key`` entry of ``[profile]`` in
    ``path`` (default ``$STRATUS_CREDENTIALS_FILE``, else ``var/credentials``). A missing file,
    profile or entry is not an error (services without API keys need none).
    """
    key = os.environ.get("STRATUS_API_KEY")
    if key:
        return key
    path = path or os.environ.get("STRATUS_CREDENTIALS_FILE") or DEFAULT_CREDENTIALS_FILE
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except FileNotFoundError:
        return None
    if not parser.has_option(profile, API_KEY_ENTRY):
        return None
    return parser.get(profile, API_KEY_ENTRY).strip() or None


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"stratus_client: cannot read the {what} {path}: {e.strerror}") from e


def load_tls() -> Optional[Tuple[bytes, Optional[bytes], Optional[bytes]]]:
    """The client TLS the CLI would use, as PEM bytes ``(ca, client_cert, client_key)``, or None
    when there is no CA to trust (plaintext).

    The CA is ``$STRATUS_TLS_CA``, else ``<data dir>/tls/ca.pem`` when ``<data dir>/tls/enabled``
    exists (``stratus up --tls`` writes both; data dir ``$STRATUS_DATA_DIR``, default ``var``).
    The client certificate and key are ``$STRATUS_TLS_CLIENT_CERT`` and
    ``$STRATUS_TLS_CLIENT_KEY`` (both or neither). A file that cannot be read is a ValueError
    naming it.
    """
    ca = os.environ.get("STRATUS_TLS_CA")
    if not ca:
        tls_dir = os.path.join(os.environ.get("STRATUS_DATA_DIR") or "var", "tls")
        if os.path.exists(os.path.join(tls_dir, "enabled")) and os.path.exists(
                os.path.join(tls_dir, "ca.pem")):
            ca = os.path.join(tls_dir, "ca.pem")
    if not ca:
        return None
    cert = os.environ.get("STRATUS_TLS_CLIENT_CERT")
    key = os.environ.get("STRATUS_TLS_CLIENT_KEY")
    if bool(cert) != bool(key):
        raise ValueError("stratus_client: set both STRATUS_TLS_CLIENT_CERT and "
                         "STRATUS_TLS_CLIENT_KEY, or neither")
    return (_read(ca, "TLS CA"), _read(cert, "client certificate") if cert else None,
            _read(key, "client key") if key else None)


class _CallDetails(grpc.ClientCallDetails):
    def __init__(self, details, metadata):
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = details.wait_for_ready
        self.compression = details.compression


class _AddMetadata(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                   grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Adds fixed metadata to every call (works on plaintext channels, unlike call
    credentials, which gRPC sends only over TLS)."""

    def __init__(self, pairs: Sequence[Tuple[str, str]]):
        self._pairs = tuple(pairs)

    def _details(self, details):
        return _CallDetails(details, list(details.metadata or ()) + list(self._pairs))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)

    def intercept_stream_stream(self, continuation, details, request_iterator):
        return continuation(self._details(details), request_iterator)


def channel(target: str, api_key: Optional[str] = None, *, tls: Optional[bool] = None,
            root_certificates: Optional[bytes] = None,
            certificate_chain: Optional[bytes] = None, private_key: Optional[bytes] = None,
            options: Iterable[Tuple[str, object]] = ()) -> grpc.Channel:
    """A channel to ``target`` ("host:port", or any gRPC target such as "dns:///host:port").

    ``api_key`` None: ``load_api_key()``; "" sends none.
    ``tls`` None: TLS when ``root_certificates`` is given or ``load_tls()`` finds a CA, as the
    CLI decides; True: TLS (the system roots unless a CA is given or found); False: plaintext.
    ``root_certificates``, ``certificate_chain``, ``private_key``: PEM bytes that take the place
    of what ``load_tls()`` finds (the chain and key are the client certificate, for mTLS).
    ``options``: extra gRPC channel arguments.
    """
    key = load_api_key() if api_key is None else api_key
    opts = [("grpc.service_config", _SERVICE_CONFIG), ("grpc.enable_retries", 1)] + list(options)
    found = load_tls() if tls is not False else None
    if tls is False:
        ch = grpc.insecure_channel(target, opts)
    elif tls or root_certificates or found:
        ca, cert, pkey = found or (None, None, None)
        ch = grpc.secure_channel(target, grpc.ssl_channel_credentials(
            root_certificates or ca, private_key or pkey, certificate_chain or cert), opts)
    else:
        ch = grpc.insecure_channel(target, opts)
    if key:
        ch = grpc.intercept_channel(ch, _AddMetadata([("authorization", f"Bearer {key}")]))
    return ch


class Client:
    """One channel to a Stratus service and a stub per service.

    >>> with Client("localhost:50052") as c:
    ...     c.detector.ListModels(detector_pb2.ListModelsRequest(), timeout=5)

    Thread-safe as gRPC channels and stubs are. Close it (or use ``with``) when done.
    """

    def __init__(self, target: str, api_key: Optional[str] = None, **channel_args):
        self.target = target
        self.channel = channel(target, api_key, **channel_args)
        self.detector = detector_pb2_grpc.DetectorServiceStub(self.channel)
        self.recognition = recognition_pb2_grpc.RecognitionServiceStub(self.channel)
        self.mask = mask_pb2_grpc.MaskServiceStub(self.channel)
        self.sentiment = sentiment_pb2_grpc.SentimentServiceStub(self.channel)
        self.ingest = ingest_pb2_grpc.IngestServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def error_info(error: grpc.RpcError) -> Optional[error_details_pb2.ErrorInfo]:
    """The google.rpc.ErrorInfo a Stratus service attached to a failed call (its ``reason`` is the AWS
    exception name, e.g. "InvalidImageFormatException"), or None."""
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailers or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info):
                return info
    return None
