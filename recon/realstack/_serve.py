"""Serve one OpenStack service's WSGI application on 127.0.0.1 (a child process).

    python -m recon.realstack._serve SERVICE PORT CONFIG_FILE

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


def main(argv: list[str]) -> None:
    service, port, config = argv[0], int(argv[1]), argv[2]
    app = strip_hop_by_hop(load_app(service, config))
    server = Server(("127.0.0.1", port), Handler)
    server.set_app(app)
    sys.stderr.write(f"recon.realstack: {service} serving on 127.0.0.1:{port}\n")
    sys.stderr.flush()
    server.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main(sys.argv[1:])
