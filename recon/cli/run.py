"""`recon run` (one night) and `recon init` (start a folder)."""
from __future__ import annotations

from pathlib import Path

from recon import notify
from recon.cli.common import add_db, date_arg, open_args
from recon.config import init_folder
from recon.nightly import Night, today_shanghai
from recon.progress import Progress
from reports.index import refresh_after_run


def cmd_run(args) -> int:
    o = open_args(args, contract=False)
    notify.load_settings(o.config)  # a bad [notify] table is bad configuration: exit 3 first
    progress = Progress(quiet=args.quiet)
    progress.note(f"config {o.config.path.resolve()}; store {o.db.resolve()}; "
                  f"reports {o.out.resolve()}")
    night = Night(o.config, cloud=args.cloud, progress=progress)
    day = args.date or today_shanghai()
    result = night.run(day, o.db, o.out)
    report = result.report
    progress.note(f"{day}: exit {result.exit_code} ({report.exit_label}); "
                  f"{report.counts['critical']} critical, {report.counts['warning']} warning; "
                  f"report {result.html}")
    after_night(o.config, o.db, o.out, result, progress)
    return result.exit_code


def after_night(config, db: Path, out: Path, result, progress: Progress) -> None:
    """The night is stored and reported: refresh the index and tell people (never the exit code)."""
    refresh_after_run(config, db, out)
    for channel, sent in notify.notify_night(config, db, result).items():
        if sent:
            progress.log(f"notify {channel}: sent")
        else:  # nobody was told: even a quiet cron run says so
            progress.problem(f"notify {channel}: FAILED (see the log)")


def cmd_init(args) -> int:
    written = init_folder(args.dir)
    for path in written:
        print(f"wrote {path}{'/' if path.is_dir() else ''}")
    where = "" if Path(args.dir).resolve() == Path.cwd() else f"cd {args.dir} && "
    print(f"next: {where}recon contract check; then set [openstack] cloud in recon.toml, put "
          "the console exports in exports/ and run `recon run`")
    return 0


def register(sub) -> None:
    run = sub.add_parser("run", help="pull, validate, store, reconcile and report one night",
                         description="Pull every configured source for one date, validate, "
                         "store the snapshot (replacing that date's), reconcile and write "
                         "OUT/DATE/nightly.html and nightly.json.")
    run.add_argument("--date", type=date_arg, help="snapshot date, YYYY-MM-DD (default: today "
                     "in Asia/Shanghai)")
    run.add_argument("--cloud", help="clouds.yaml entry (default: [openstack] cloud or OS_CLOUD)")
    add_db(run, out=True)
    run.add_argument("-q", "--quiet", action="store_true",
                     help="drop progress (for cron); the files used, each failed or rejected "
                     "source and the exit line are still written")
    run.set_defaults(func=cmd_run)

    init = sub.add_parser("init", help="start a folder: recon.toml, contract files, mapping",
                          description="Write a commented recon.toml, contract_items.csv, "
                          "contract_amendments.csv, mapping.toml, assessment.toml (the monthly "
                          "criteria) and an empty exports/ folder into DIR, ready for `recon "
                          "contract check`. Overwrites nothing.")
    init.add_argument("dir", nargs="?", default=".", metavar="DIR",
                      help="folder to start (default: the current one; created if missing)")
    init.set_defaults(func=cmd_init)
