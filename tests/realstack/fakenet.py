"""An ML2 mechanism driver that binds every port, for servers without agents.

With no mechanism driver, Neutron cannot bind a server's port and Nova puts the
server in ERROR.  This one binds any port on any host as an OVS port, ACTIVE,
so that servers booted on the fake virt driver get real ports and fixed IPs
(and floating IPs can be associated with them).  Nothing is plugged anywhere.

Neutron loads mechanism drivers by entry point only; the stack gives the
Neutron process a throw-away ``*.dist-info`` on ``PYTHONPATH`` that declares
``realstack`` in ``neutron.ml2.mechanism_drivers`` (see :func:`write_entry_point`).
"""
from __future__ import annotations

from pathlib import Path

ENTRY_POINT = "realstack = tests.realstack.fakenet:RealstackMechanismDriver"


def write_entry_point(directory: Path) -> Path:
    """Make ``directory`` an importable path whose metadata declares the driver."""
    dist = Path(directory) / "recon_realstack_fakenet-0.0.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: recon-realstack-fakenet\n"
                                   "Version: 0.0.0\n")
    (dist / "entry_points.txt").write_text(f"[neutron.ml2.mechanism_drivers]\n{ENTRY_POINT}\n")
    return Path(directory)


try:
    from neutron_lib import constants
    from neutron_lib.api.definitions import portbindings
    from neutron_lib.plugins.ml2 import api
except ImportError:  # pragma: no cover - only Neutron's process imports the driver
    api = None

if api is not None:

    class RealstackMechanismDriver(api.MechanismDriver):
        def initialize(self):
            pass

        @property
        def connectivity(self):
            return portbindings.CONNECTIVITY_L2

        def bind_port(self, context):
            for segment in context.segments_to_bind:
                context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OVS,
                                    {portbindings.CAP_PORT_FILTER: True,
                                     portbindings.OVS_HYBRID_PLUG: False},
                                    status=constants.PORT_STATUS_ACTIVE)
                return
