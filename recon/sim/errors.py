"""Each service's error answers, in its own shape.

Nova and Cinder say ``{"itemNotFound": {...}}``, Neutron ``{"NeutronError":
{...}}``, Octavia a WSME fault, Keystone ``{"error": {...}}``, Glance and
Swift plain text or HTML -- a client's error handling is only exercised if
the simulator fails as each real service does.  The server's fault injection
(500s and HAProxy's 503) answers through here too.
"""
from __future__ import annotations

from typing import Any

from .wire import JSON, HTTPError, Req, Response

_UNAUTHORIZED = {"error": {"code": 401, "title": "Unauthorized",
                           "message": "The request you have made requires authentication."}}
_HAPROXY_503 = (b"<html><body><h1>503 Service Unavailable</h1>\n"
                b"No server is available to handle this request.\n</body></html>\n")

#: per status: nova/cinder body key, neutron error type, title
_ERROR_NAMES = {
    400: ("badRequest", "HTTPBadRequest", "Bad Request"),
    403: ("forbidden", "HTTPForbidden", "Forbidden"),
    404: ("itemNotFound", "HTTPNotFound", "Not Found"),
}


def unauthorized(req: Req) -> HTTPError:
    hdrs = [("WWW-Authenticate", f'Keystone uri="{req.base}/identity"')]
    if req.service == "object-store":
        return HTTPError(Response(
            401, b"<html><h1>Unauthorized</h1><p>This server could not verify that "
                 b"you are authorized to access the document you requested.</p></html>",
            "text/html; charset=UTF-8", hdrs))
    return HTTPError(Response(401, _UNAUTHORIZED, JSON, hdrs))


def error_body(req: Req, status: int, msg: str, neutron_type: str | None = None):
    """The JSON error body each service writes for ``status``; None for non-JSON services."""
    nova_key, neutron_default, title = _ERROR_NAMES[status]
    svc = req.service
    if svc in ("compute", "block-storage"):
        return {nova_key: {"code": status, "message": msg}}
    if svc == "network":
        return {"NeutronError": {"type": neutron_type or neutron_default, "message": msg,
                                 "detail": ""}}
    if svc == "load-balancer":
        return {"faultcode": "Client", "faultstring": msg, "debuginfo": None}
    if svc == "identity":
        return {"error": {"code": status, "title": title, "message": msg}}
    return None


def plain_error(req: Req, status: int, msg: str) -> HTTPError:
    body = error_body(req, status, msg)
    if body is not None:
        return HTTPError(Response(status, body))
    title = _ERROR_NAMES[status][2]
    return HTTPError(Response(status, f"{status} {title}\n\n{msg}\n\n".encode(),
                              "text/plain; charset=UTF-8"))


def forbidden(req: Req, msg: str) -> HTTPError:
    return plain_error(req, 403, msg)


def bad_request(req: Req, msg: str) -> HTTPError:
    return plain_error(req, 400, msg)


def not_found(req: Req, msg: str = "The resource could not be found.",
              neutron_type: str = "HTTPNotFound") -> HTTPError:
    body = error_body(req, 404, msg, neutron_type)
    if body is not None:
        return HTTPError(Response(404, body))
    if req.service == "image":
        return HTTPError(Response(
            404, ("<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n"
                  f"  <h1>404 Not Found</h1>\n  {msg}<br /><br />\n\n\n\n </body>\n"
                  "</html>").encode(), "text/html; charset=UTF-8"))
    return HTTPError(Response(404, b"<html><h1>Not Found</h1><p>The resource could "
                                   b"not be found.</p></html>",
                              "text/html; charset=UTF-8"))


def fault_response(svc: str, f: dict) -> Response:
    """The answer of an injected ``http_500`` or ``http_503`` fault on ``svc``."""
    if f["kind"] == "http_503":
        hdrs = [("Cache-Control", "no-cache"), ("Connection", "close")]
        if f.get("retry_after") is not None:
            hdrs.append(("Retry-After", str(f["retry_after"])))
        return Response(503, _HAPROXY_503, "text/html", hdrs)
    bodies: dict[str, Any] = {
        "identity": {"error": {"code": 500, "title": "Internal Server Error",
                               "message": "An unexpected error prevented the server "
                                          "from fulfilling your request."}},
        "compute": {"computeFault": {"code": 500, "message":
                    "Unexpected API Error. Please report this at "
                    "http://bugs.launchpad.net/nova/ and attach the Nova API log "
                    "if possible.\n<class 'oslo_db.exception.DBConnectionError'>"}},
        "block-storage": {"computeFault": {"code": 500, "message":
                          "The server has either erred or is incapable of "
                          "performing the requested operation."}},
        "network": {"NeutronError": {"type": "HTTPInternalServerError",
                                     "message": "Request Failed: internal server "
                                                "error while processing your request.",
                                     "detail": ""}},
        "load-balancer": {"faultcode": "Server", "faultstring":
                          "Internal Server Error", "debuginfo": None},
    }
    if svc in bodies:
        return Response(500, bodies[svc])
    if svc == "image":
        return Response(500, b"500 Internal Server Error\n\nThe server has either "
                             b"erred or is incapable of performing the requested "
                             b"operation.\n\n   ", "text/plain; charset=UTF-8")
    return Response(500, b"<html><h1>Internal Error</h1><p>The server has either erred "
                         b"or is incapable of performing the requested operation."
                         b"</p></html>", "text/html; charset=UTF-8")

