"""A private PostgreSQL 15 + PostGIS cluster run from the Debian packages' binaries.

The cluster lives in `data_dir`; its unix socket, log file and the one-off password file live
in a sibling directory `<data_dir>-run`. It listens on 127.0.0.1 only and asks for a password
(scram-sha-256) on TCP, like the production database does.
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from devstack.ports import LOOPBACK, DevstackError, require_free_port
from devstack.process import ManagedService, log_tail, poll_until

DEFAULT_BINDIR = Path("/usr/lib/postgresql/15/bin")
PG_OS_USER = "postgres"  # initdb/pg_ctl refuse to run as root; root runs them as this user
SUPERUSER = "postgres"  # the database role the URLs use
# sun_path is 108 bytes including the final NUL; PostgreSQL refuses longer socket paths.
MAX_SOCKET_PATH = 107
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def find_pg_bindir() -> Path:
    """The directory with initdb/pg_ctl/psql: PostgreSQL 15's, else whatever pg_config names."""
    if (DEFAULT_BINDIR / "initdb").is_file():
        return DEFAULT_BINDIR
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "initdb").is_file():
            return bindir
    raise DevstackError(
        f"PostgreSQL server binaries not found in {DEFAULT_BINDIR} nor via pg_config; "
        "run scripts/bootstrap (it installs postgresql-15-postgis-3)"
    )



def _untraversable_parents(path: Path, account: pwd.struct_passwd) -> list[Path]:
    """The existing parent directories of `path` that `account` may not enter, outermost first."""
    groups = set(os.getgrouplist(account.pw_name, account.pw_gid))
    blocked = []
    for directory in reversed(path.resolve().parents):
        if not directory.exists():
            break
        info = directory.stat()
        if info.st_uid == account.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            blocked.append(directory)
    return blocked


def server_can_reach(path: Path) -> bool:
    """Whether the OS user the server will run as can reach `path` (always, unless root)."""
    if os.geteuid() != 0:
        return True
    try:
        account = pwd.getpwnam(PG_OS_USER)
    except KeyError:
        return True  # start() explains the missing user
    return not _untraversable_parents(path / "x", account)


class PostgisCluster(ManagedService):
    """Start/stop a PostgreSQL cluster on 127.0.0.1:`port` with superuser `postgres`/`password`.

    `fast=True` turns off fsync, synchronous_commit and full_page_writes: a crash may lose or
    corrupt data, which is fine for throwaway test clusters and nothing else.
    Initdb runs only when `data_dir` is empty, so a persistent `data_dir` keeps its data.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int,
        password: str,
        *,
        fast: bool = False,
        start_timeout: float = 60.0,
    ) -> None:
        # Absolute paths: the server runs with cwd "/" (the postgres user may not be able
        # to enter the caller's cwd) and pg_ctl hands the paths to a shell.
        self.data_dir = data_dir.absolute()
        self.run_dir = self.data_dir.parent / f"{self.data_dir.name}-run"
        self.log_file = self.run_dir / "postgres.log"
        self.port = port
        self.password = password
        self.fast = fast
        self.start_timeout = start_timeout
        self._bindir = find_pg_bindir()
        self._as_root = os.geteuid() == 0
        # Set once pg_ctl start was invoked, so stop() only ever stops a server we started.
        self._started = False

    # -- public API -------------------------------------------------------------------

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL for the app: postgresql+asyncpg://postgres:<pw>@127.0.0.1:<port>/<db>."""
        return (
            f"postgresql+asyncpg://{SUPERUSER}:{quote(self.password, safe='')}"
            f"@{LOOPBACK}:{self.port}/{dbname}"
        )

    def start(self) -> None:
        if self._started:
            return
        socket_path = self.run_dir / f".s.PGSQL.{self.port}"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            raise DevstackError(
                f"the PostgreSQL socket path {socket_path} is longer than {MAX_SOCKET_PATH} "
                "bytes; use a shorter data directory"
            )
        hint = ""
        if (self.data_dir / "postmaster.pid").exists():
            hint = (
                f"a server from an earlier run may still be running on {self.data_dir}; "
                f"stop it with: {self._bindir / 'pg_ctl'} stop -D {self.data_dir}"
            )
        require_free_port(self.port, "PostgreSQL", "PIL_DEV_PG_PORT", hint)

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(exist_ok=True)
        # The run dir holds the socket and the log (which can contain SQL): keep it private.
        self.run_dir.chmod(0o700)
        if self._as_root:
            self._hand_over_to_postgres_user()

        if not (self.data_dir / "PG_VERSION").exists():
            if any(self.data_dir.iterdir()):
                raise DevstackError(
                    f"{self.data_dir} is neither empty nor a PostgreSQL data directory; "
                    "refusing to initdb over it"
                )
            self._initdb()

        options = [
            "-c", f"listen_addresses={LOOPBACK}",
            "-p", str(self.port),
            "-k", str(self.run_dir),
        ]
        if self.fast:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                        "-c", "full_page_writes=off"]  # fmt: skip
        self._started = True
        # pg_ctl passes -o through a shell, hence the quoting.
        result = self._run_server_tool(
            "pg_ctl", "start", "-D", str(self.data_dir), "-l", str(self.log_file),
            "-w", "-t", str(int(self.start_timeout)),
            "-o", " ".join(shlex.quote(option) for option in options),
        )  # fmt: skip
        if result.returncode != 0:
            raise DevstackError(
                f"PostgreSQL did not start on port {self.port}:\n{result.stdout}{result.stderr}"
                f"\n--- last lines of {self.log_file} ---\n{log_tail(self.log_file)}"
            )
        self._wait_until_ready()

    def stop(self) -> None:
        """pg_ctl stop -m fast (rolls back open transactions, then a clean shutdown)."""
        if not self._started:
            return
        result = self._run_server_tool(
            "pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60"
        )
        if result.returncode != 0 and (self.data_dir / "postmaster.pid").exists():
            # Still running after a minute: do not leave it behind.
            self._run_server_tool("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate")
        self._started = False

    def ensure_database(self, name: str) -> None:
        """Create database `name` if it is missing, and the postgis extension in it."""
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain lower-case database name: {name!r}")
        exists = self._psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        if exists.strip() != "1":
            self._psql("postgres", f'CREATE DATABASE "{name}"')
        self._psql(name, "CREATE EXTENSION IF NOT EXISTS postgis")

    # -- internals --------------------------------------------------------------------

    def _run_server_tool(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self._bindir / tool), *args]
        if self._as_root:
            command = ["runuser", "-u", PG_OS_USER, "--", *command]
        # stdin from /dev/null: the daemonised postmaster must not hold our terminal.
        return subprocess.run(
            command, cwd="/", stdin=subprocess.DEVNULL, capture_output=True, text=True
        )

    def _initdb(self) -> None:
        password_file = self.run_dir / "initdb-password"
        # Created 0600 from the start: the password is never readable by anyone else.
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.password + "\n")
        try:
            if self._as_root:
                shutil.chown(password_file, user=PG_OS_USER)
            result = self._run_server_tool(
                "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "-E", "UTF8",
                "--locale=C.UTF-8", f"--pwfile={password_file}",
                # TCP needs the password; the socket (in a private directory) uses peer auth.
                "--auth-host=scram-sha-256", "--auth-local=peer", "--no-instructions",
            )  # fmt: skip
        finally:
            password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            raise DevstackError(f"initdb failed for {self.data_dir}:\n{result.stdout}{result.stderr}")

    def _hand_over_to_postgres_user(self) -> None:
        """Root cannot run the server: give the directories to the postgres OS user."""
        try:
            account = pwd.getpwnam(PG_OS_USER)
        except KeyError:
            raise DevstackError(
                f"running as root, but there is no '{PG_OS_USER}' OS user to run PostgreSQL; "
                "run scripts/bootstrap (installing postgresql-15 creates it)"
            ) from None
        self._make_reachable(self.data_dir, account)
        for directory in (self.data_dir, self.run_dir):
            os.chown(directory, account.pw_uid, account.pw_gid)

    @staticmethod
    def _make_reachable(path: Path, account: pwd.struct_passwd) -> None:
        """The postgres user must be able to traverse every parent directory of `path`.

        Directories under the system temp dir (pytest's 0700 /tmp/pytest-of-root, mkdtemp's
        0700 dirs) get o+x, traverse only, no listing. Elsewhere we refuse to change
        permissions and say what to do instead.
        """
        temp_root = Path(tempfile.gettempdir()).resolve()
        for directory in _untraversable_parents(path, account):
            if directory.is_relative_to(temp_root) and directory != temp_root:
                directory.chmod(directory.stat().st_mode | stat.S_IXOTH)
                continue
            raise DevstackError(
                f"PostgreSQL runs as the '{account.pw_name}' OS user, which cannot enter "
                f"{directory} (mode {stat.filemode(directory.stat().st_mode)}); move the data "
                f"directory somewhere it can reach, or allow traversal with: chmod o+x {directory}"
            )

    def _wait_until_ready(self) -> None:
        # pg_ctl -w already waited on the postmaster; pg_isready confirms TCP answers too.
        def accepting() -> bool:
            result = subprocess.run(
                [str(self._bindir / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(self.port), "-t", "2"],
                stdin=subprocess.DEVNULL,
            )
            return result.returncode == 0

        poll_until(accepting, timeout=self.start_timeout, failure=lambda: (
            f"PostgreSQL on port {self.port} did not accept connections within {self.start_timeout:.0f}s\n"
            f"--- last lines of {self.log_file} ---\n{log_tail(self.log_file)}"))

    def _psql(self, dbname: str, sql: str) -> str:
        # Over TCP with the password, exactly as the app connects. PG* variables from the
        # caller's shell (PGHOST, PGSERVICE, PGOPTIONS...) must not redirect or alter this.
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        env |= {"PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "10"}
        result = subprocess.run(
            [str(self._bindir / "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
             "-h", LOOPBACK, "-p", str(self.port), "-U", SUPERUSER, "-d", dbname, "-c", sql],
            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise DevstackError(f"psql on database {dbname!r} failed for {sql!r}:\n{result.stderr}")
        return result.stdout
