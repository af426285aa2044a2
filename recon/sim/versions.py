"""Version-discovery documents: what a client reads before it authenticates.

keystoneauth and openstacksdk pick their endpoint and microversion range from
these (the ``version``/``min_version`` of Nova and Cinder are the scenario's
maximum microversions), so they follow each service's own format.  Faults
spare them unless a fault says ``discovery: true``.
"""
from __future__ import annotations

NOVA_VERSION_UPDATED = "2013-07-23T11:33:21Z"
CINDER_VERSION_UPDATED = "2023-08-31T00:00:00Z"


def identity_versions(base: str) -> dict:
    return {"versions": {"values": [identity_version(base)["version"]]}}


def identity_version(base: str) -> dict:
    return {"version": {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.identity-v3+json"}],
    }}


def compute_version_v21(base: str, max_mv: tuple[int, int]) -> dict:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": f"{max_mv[0]}.{max_mv[1]}",
        "min_version": "2.1",
        "updated": NOVA_VERSION_UPDATED,
        "links": [{"rel": "self", "href": f"{base}/compute/v2.1/"},
                  {"rel": "describedby", "type": "text/html",
                   "href": "http://docs.openstack.org/"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


def compute_versions(base: str, max_mv: tuple[int, int]) -> dict:
    v21 = compute_version_v21(base, max_mv)
    del v21["media-types"]
    v21["links"] = v21["links"][:1]
    return {"versions": [
        {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
         "updated": "2011-01-21T11:33:21Z",
         "links": [{"rel": "self", "href": f"{base}/compute/v2/"}]},
        v21,
    ]}


def volume_version_v3(base: str, max_mv: tuple[int, int]) -> dict:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": f"{max_mv[0]}.{max_mv[1]}",
        "min_version": "3.0",
        "updated": CINDER_VERSION_UPDATED,
        "links": [{"rel": "describedby", "type": "text/html",
                   "href": "https://docs.openstack.org/"},
                  {"rel": "self", "href": f"{base}/volume/v3/"}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.volume+json;version=3"}],
    }


def network_versions(base: str) -> dict:
    return {"versions": [{"id": "v2.0", "status": "CURRENT",
                          "links": [{"rel": "self", "href": f"{base}/network/v2.0/"}]}]}


def lb_versions(base: str) -> dict:
    # octavia lists every minor API version; the newest is CURRENT
    vs = []
    for minor in range(0, 28):
        vs.append({"id": f"v2.{minor}",
                   "status": "CURRENT" if minor == 27 else "SUPPORTED",
                   "updated": "2023-08-31T00:00:00Z",
                   "links": [{"rel": "self", "href": f"{base}/load-balancer/v2"}]})
    return {"versions": vs}


def image_versions(base: str) -> dict:
    vs = []
    for minor in range(16, -1, -1):
        vs.append({"id": f"v2.{minor}",
                   "status": "CURRENT" if minor == 16 else "SUPPORTED",
                   "links": [{"rel": "self", "href": f"{base}/image/v2/"}]})
    return {"versions": vs}
