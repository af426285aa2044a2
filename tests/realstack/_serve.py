"""Serve one OpenStack service's WSGI application on 127.0.0.1 (a child process).

    python -m tests.realstack._serve SERVICE PORT CONFIG_FILE

Each service reads its configuration its own way (environment variables or the
command line); ``sys.argv`` is replaced by a clean one first, because Keystone's,
Cinder's and Neutron's factories parse it as their own command line.
"""
from __future__ import annotations

import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailers", "transfer-encoding", "upgrade"}


def load_app(service: str, config: str):
    confdir = os.path.dirname(config)
    if service == "keystone":
        sys.argv = ["keystone-wsgi-public"]
        os.environ["OS_KEYSTONE_CONFIG_FILES"] = config
        from keystone.server.wsgi import initialize_public_application
        return initialize_public_application()
    if service == "nova":
        sys.argv = ["nova-api"]
        os.environ["OS_NOVA_CONFIG_DIR"] = confdir
        os.environ["OS_NOVA_CONFIG_FILES"] = "api-paste.ini;" + os.path.basename(config)
        from nova.wsgi.osapi_compute import application
        return application
    if service == "cinder":
        sys.argv = ["cinder-api", "--config-file", config]
        from cinder.wsgi.wsgi import initialize_application
        return initialize_application()
    if service == "glance":
        sys.argv = ["glance-api"]
        os.environ["OS_GLANCE_CONFIG_DIR"] = confdir
        from glance.common.wsgi_app import init_app
        return init_app()
    if service == "neutron":
        sys.argv = ["neutron-api"]
        os.environ["OS_NEUTRON_CONFIG_DIR"] = confdir
        os.environ["OS_NEUTRON_CONFIG_FILES"] = os.path.basename(config)
        from neutron.wsgi.api import application
        return application
    if service == "placement":
        sys.argv = ["placement-api"]
        os.environ["OS_PLACEMENT_CONFIG_DIR"] = confdir
        from placement.wsgi.api import application
        return application
    raise SystemExit(f"unknown service {service!r}")


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def server_bind(self):
        # WSGIServer.server_bind asks getfqdn(), which can hang without DNS
        import http.server
        http.server.HTTPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.setup_environ()


class Handler(WSGIRequestHandler):
    def address_string(self):
        return self.client_address[0]

    def log_message(self, format, *args):
        sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))
        sys.stderr.flush()


def strip_hop_by_hop(app):
    """wsgiref refuses hop-by-hop response headers that some apps set."""

    def wrapped(environ, start_response):
        def sr(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
            return start_response(status, headers, exc_info)

        return app(environ, sr)

    return wrapped


def start_nova_services() -> None:
    """Nova conductor, scheduler and compute in this (the API's) process.

    ``transport_url = fake:/`` is an in-process bus, so the services that talk
    over RPC share the API's process, as in Nova's own functional tests.
    They start once the stack's catalog is filled (the ready file): the
    scheduler and compute talk to Placement with their service user.
    """
    import threading
    import time

    from nova import service as nova_service
    from nova.compute import rpcapi as compute_rpcapi
    from nova.conductor import rpcapi as conductor_rpcapi
    from nova.scheduler import rpcapi as scheduler_rpcapi

    # Nova loads compute drivers from the nova.virt namespace only
    from tests.realstack import fakevirt

    sys.modules["nova.virt.realstack_fake"] = fakevirt
    started = []
    done = os.environ.get("RECON_REALSTACK_COMPUTE_READY_FILE")

    def start():
        ready = os.environ.get("RECON_REALSTACK_READY_FILE")
        while ready and not os.path.exists(ready):
            time.sleep(0.2)
        try:
            for binary, topic in (("nova-conductor", conductor_rpcapi.RPC_TOPIC),
                                  ("nova-scheduler", scheduler_rpcapi.RPC_TOPIC)):
                svc = nova_service.Service.create(binary=binary, topic=topic)
                svc.start()
                started.append(svc)
            svc = nova_service.Service.create(binary="nova-compute", topic=compute_rpcapi.RPC_TOPIC,
                                              topic_alt=compute_rpcapi.RPC_TOPIC_ALT)
            svc.start()
            started.append(svc)
            # map the new compute host to its cell now (nova-manage cell_v2 discover_hosts)
            from nova import context as nova_context
            from nova.objects import host_mapping

            host_mapping.discover_hosts(nova_context.get_admin_context())
            sys.stderr.write("tests.realstack: nova-compute started and mapped\n")
            status = "ok\n"
        except Exception as exc:  # the log says why; the API keeps serving
            import traceback

            traceback.print_exc()
            status = f"error: {type(exc).__name__}: {exc}\n"
        if done:
            with open(done + ".tmp", "w") as f:
                f.write(status)
            os.replace(done + ".tmp", done)
        sys.stderr.flush()

    threading.Thread(target=start, name="nova-services-start", daemon=True).start()


def main(argv: list[str]) -> None:
    service, port, config = argv[0], int(argv[1]), argv[2]
    app = strip_hop_by_hop(load_app(service, config))
    if service == "nova" and os.environ.get("RECON_REALSTACK_NOVA_SERVICES") == "1":
        start_nova_services()
    server = Server(("127.0.0.1", port), Handler)
    server.set_app(app)
    sys.stderr.write(f"tests.realstack: {service} serving on 127.0.0.1:{port}\n")
    sys.stderr.flush()
    server.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main(sys.argv[1:])
