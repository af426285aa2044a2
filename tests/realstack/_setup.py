"""Several ``*-manage`` steps of one service in one Python process (a child process).

    python -m tests.realstack._setup keystone CONFIG ADMIN_URL REGION USER GROUP
    python -m tests.realstack._setup nova CONFIG CELL0_DB_URL

Importing Keystone or Nova costs 2-3.5 s of CPU; running their four set-up
commands as four ``keystone-manage``/``nova-manage`` processes pays it four
times.  These run the same command implementations in sequence instead.
The bootstrap admin password comes in ``OS_BOOTSTRAP_PASSWORD``.
"""
from __future__ import annotations

import sys
import time


def _step(name: str, t0: float) -> float:
    now = time.monotonic()
    print(f"tests.realstack: {name} done in {now - t0:.2f}s", file=sys.stderr, flush=True)
    return now


def keystone(config: str, url: str, region: str, user: str, group: str) -> None:
    from keystone.cmd import cli

    base = ["keystone-manage", "--config-file", config]
    t = time.monotonic()
    for args in (["db_sync"],
                 ["fernet_setup", "--keystone-user", user, "--keystone-group", group],
                 ["credential_setup", "--keystone-user", user, "--keystone-group", group],
                 # password from OS_BOOTSTRAP_PASSWORD
                 ["bootstrap", "--bootstrap-username", "admin",
                  "--bootstrap-project-name", "admin", "--bootstrap-role-name", "admin",
                  "--bootstrap-service-name", "keystone", "--bootstrap-region-id", region,
                  "--bootstrap-admin-url", url, "--bootstrap-public-url", url,
                  "--bootstrap-internal-url", url]):
        sys.argv = base + args
        cli.CONF.clear()  # forget the previous command's parsed arguments
        cli.main(argv=sys.argv)
        t = _step("keystone-manage " + args[0], t)


def nova(config: str, cell0_url: str) -> None:
    # nova.monkey_patch reads --config-file from sys.argv at import time
    sys.argv = ["nova-manage", "--config-file", config, "db", "sync"]
    from nova.cmd import manage  # first: it monkey-patches as nova-manage does

    from nova import config as nova_config
    from nova import objects
    from oslo_log import log as logging

    conf = manage.CONF
    conf.register_cli_opts([manage.category_opt, manage.post_mortem_opt])
    nova_config.parse_args(sys.argv)
    logging.setup(conf, "nova")
    objects.register_all()
    t = time.monotonic()
    steps = (("api_db sync", lambda: manage.ApiDbCommands().sync()),
             ("cell_v2 map_cell0",
              lambda: manage.CellV2Commands().map_cell0(database_connection=cell0_url)),
             ("db sync", lambda: manage.DbCommands().sync()),
             ("cell_v2 create_cell", lambda: manage.CellV2Commands().create_cell(name="cell1")))
    for name, fn in steps:
        rc = fn()
        if rc not in (None, 0):
            raise SystemExit(f"nova-manage {name} returned {rc}")
        t = _step("nova-manage " + name, t)


if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    {"keystone": keystone, "nova": nova}[what](*args)
