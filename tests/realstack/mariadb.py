"""A private MariaDB server: own datadir, socket and port on 127.0.0.1.

Uses Debian's ``mariadb-server`` binaries (``mariadb-install-db``, ``mariadbd``)
as installed by CI's setup script; nothing is installed here.  Durability is
traded for speed (no doublewrite, no fsync): the data is thrown away anyway.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from ._proc import Proc, StackError, free_port, run, tail

USER = "recon"
PASSWORD = "recon-stack-db"


def find_mariadbd() -> str | None:
    for name in ("mariadbd", "mysqld"):
        for d in (None, "/usr/sbin", "/usr/local/sbin", "/usr/libexec"):
            path = shutil.which(name, path=d) if d else shutil.which(name)
            if path:
                return path
    return None


def find_install_db() -> str | None:
    for name in ("mariadb-install-db", "mysql_install_db"):
        path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/local/bin")
        if path:
            return path
    return None


class MariaDB:
    def __init__(self, workdir: Path):
        self.dir = Path(workdir) / "mariadb"
        self.datadir = self.dir / "data"
        self.socket = self.dir / "mysqld.sock"
        self.log = self.dir / "mariadb.log"
        self.port = 0
        self.proc: Proc | None = None

    def start(self, timeout: float = 60.0) -> None:
        mariadbd, install_db = find_mariadbd(), find_install_db()
        if not mariadbd or not install_db:
            raise StackError("mariadbd / mariadb-install-db not found: apt-get install -y mariadb-server")
        self.dir.mkdir(parents=True, exist_ok=True)
        user = ["--user=root"] if os.geteuid() == 0 else []
        run([install_db, "--no-defaults", f"--datadir={self.datadir}", *user,
             "--auth-root-authentication-method=normal", "--skip-test-db",
             "--skip-name-resolve"], self.dir / "install-db.log")
        self.port = free_port()
        cmd = [mariadbd, "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
               f"--port={self.port}", "--bind-address=127.0.0.1", f"--pid-file={self.dir}/mysqld.pid",
               f"--log-error={self.log}", "--skip-name-resolve", "--skip-log-bin",
               "--innodb-flush-log-at-trx-commit=0", "--skip-innodb-doublewrite",
               "--innodb-flush-method=nosync", "--innodb-buffer-pool-size=128M",
               "--innodb-log-file-size=64M", "--max-connections=1000",
               "--character-set-server=utf8", "--collation-server=utf8_general_ci"]
        cmd += user
        self.proc = Proc("mariadbd", cmd, self.dir / "mariadbd.stdout")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.proc.alive():
                raise StackError(f"mariadbd exited {self.proc.popen.returncode}:\n{tail(self.log)}")
            if self.socket.exists() and "ready for connections" in _read(self.log):
                break
            time.sleep(0.1)
        else:
            raise StackError(f"mariadbd not ready within {timeout}s:\n{tail(self.log)}")
        self.sql(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';"
                 f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'127.0.0.1';")

    def sql(self, statements: str) -> None:
        """Run ';'-separated statements as root over the unix socket (PyMySQL)."""
        import pymysql

        conn = pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                for stmt in filter(None, (s.strip() for s in statements.split(";"))):
                    cur.execute(stmt)
        finally:
            conn.close()

    def create_databases(self, *names: str) -> None:
        self.sql("".join(f"CREATE DATABASE `{n}` CHARACTER SET utf8;" for n in names))

    def url(self, database: str) -> str:
        return (f"mysql+pymysql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"
                "?charset=utf8")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(grace=10)
            self.proc = None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
