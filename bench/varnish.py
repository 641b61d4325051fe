"""
Varnish in front of one or more app servers, for tests, `make bench` and `make cluster`.

There is one VCL: deploy/varnish/default.vcl, documented for a single app server on 127.0.0.1:8000.
`render_vcl` writes the same file with other app servers, health-check host and purge addresses in
place of the block between its `# BEGIN DEPLOYMENT` and `# END DEPLOYMENT` markers; everything else
(what is cached, purging, compression) stays exactly as documented there.

    with Varnish(backends=[("127.0.0.1", 8001), ("127.0.0.1", 8002)], workdir=Path("/tmp/x")) as varnish:
        ...  # visitors go to varnish.url; the app purges varnish.purge_url (FRONTEND_CACHE_URLS)

`python -m bench.varnish render --backend 10.0.0.11:8000 --backend 10.0.0.12:8000 --purger 10.0.0.0/24`
prints the VCL for a two-server machine (see deploy/README.md).

varnishd runs in the foreground (-F) under its own working directory (-n), so it never touches a
system Varnish, and without a jail (-j none): it runs as the user who starts it, root or not, and
reads the VCL from a private temporary folder. (The packaged service keeps Debian's jail, which drops
to the `varnish` and `vcache` users.)
"""

import argparse
import http.client
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "varnish" / "default.vcl"
DEPLOYMENT_BLOCK = re.compile(r"^# BEGIN DEPLOYMENT\n.*?^# END DEPLOYMENT\n", re.M | re.S)
INSTALL_HINT = "install Debian's varnish package (sudo apt-get install varnish)"


class VarnishError(RuntimeError):
    pass


class VarnishNotInstalledError(VarnishError):
    pass


def varnish_executable(name="varnishd"):
    """The path of a Varnish program; /usr/sbin is searched too, as it is often missing from a user's PATH."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/usr/local/sbin")
    if not found:
        raise VarnishNotInstalledError(f"{name} was not found: {INSTALL_HINT}.")
    return found


def _acl_entry(address):
    network = ipaddress.ip_network(address, strict=False)
    if network.num_addresses == 1:
        return f'"{network.network_address}";'
    return f'"{network.network_address}"/{network.prefixlen};'


def render_vcl(backends, *, purgers=("127.0.0.1", "::1"), probe_host="localhost", template=TEMPLATE):
    """
    deploy/varnish/default.vcl with `backends` ((host, port) pairs, balanced round robin), the Host
    header of the health check (one of DJANGO_ALLOWED_HOSTS) and the addresses or networks allowed
    to PURGE.
    """
    if not backends:
        raise ValueError("Varnish needs at least one backend.")
    lines = [
        "# BEGIN DEPLOYMENT",
        "# Rendered by bench/varnish.py from deploy/varnish/default.vcl; see the comments there.",
        "probe healthz {",
        '    .request = "GET /healthz HTTP/1.1"',
        f'        "Host: {probe_host}"',
        '        "Connection: close";',
        "    .interval = 2s;",
        "    .timeout = 2s;",
        "    .window = 5;",
        "    .threshold = 3;",
        "    .initial = 3;",
        "}",
    ]
    for number, (host, port) in enumerate(backends, start=1):
        lines += [
            f"backend app{number} {{",
            f'    .host = "{host}";',
            f'    .port = "{int(port)}";',
            "    .probe = healthz;",
            "    .connect_timeout = 2s;",
            "    .first_byte_timeout = 30s;",
            "}",
        ]
    lines += ["acl purgers {", *(f"    {_acl_entry(address)}" for address in purgers), "}"]
    lines += ["sub vcl_init {", "    new app = directors.round_robin();"]
    lines += [f"    app.add_backend(app{number});" for number in range(1, len(backends) + 1)]
    lines += ["}", "# END DEPLOYMENT", ""]
    text = Path(template).read_text()
    if not DEPLOYMENT_BLOCK.search(text):
        raise VarnishError(f"{template} has no '# BEGIN DEPLOYMENT' ... '# END DEPLOYMENT' block.")
    return DEPLOYMENT_BLOCK.sub(lambda match: "\n".join(lines), text, count=1)


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Varnish:
    """
    A varnishd of its own on a free loopback port, in front of `backends`. A context manager; `.url`
    is where visitors go, `.purge_url` what the app's FRONTEND_CACHE_URLS holds.
    """

    def __init__(self, backends, workdir, *, port=None, purgers=("127.0.0.1", "::1"), probe_host="localhost"):
        self.backends = list(backends)
        self.workdir = Path(workdir).resolve()
        self.port = port or free_port()
        self.purgers = purgers
        self.probe_host = probe_host
        self.process = None
        self.log_path = self.workdir / "varnishd.log"
        self.vcl_path = self.workdir / "default.vcl"
        self.instance_dir = self.workdir / "instance"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def purge_url(self):
        return self.url

    def start(self, timeout=30):
        varnishd = varnish_executable()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.vcl_path.write_text(render_vcl(self.backends, purgers=self.purgers, probe_host=self.probe_host))
        command = [
            varnishd,
            "-F",
            "-n", str(self.instance_dir),
            "-a", f"127.0.0.1:{self.port}",
            "-T", "127.0.0.1:0",
            "-j", "none",
            "-f", str(self.vcl_path),
            "-s", "malloc,64m",
            "-p", "ban_lurker_sleep=0.1",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_answering(timeout)
        return self

    def _wait_until_answering(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise VarnishError(f"varnishd stopped (exit code {self.process.returncode}):\n{self.log()}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                # Any answer, even a 503 from a backend that is not up yet, means Varnish listens.
                connection.request("GET", "/healthz")
                connection.getresponse().read()
                return
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        self.stop()
        raise VarnishError(f"varnishd did not answer on {self.url} within {timeout} s:\n{self.log()}")

    def log(self):
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def admin(self, *command):
        """A varnishadm command against this instance, e.g. `admin("ban", "obj.status", "!=", "0")`."""
        result = subprocess.run(
            [varnish_executable("varnishadm"), "-n", str(self.instance_dir), *command],
            capture_output=True,
            text=True,
            timeout=15,
        )
        if result.returncode != 0:
            raise VarnishError(f"varnishadm {' '.join(command)} failed: {result.stdout}{result.stderr}")
        return result.stdout

    def clear(self):
        """Forget everything cached (a ban on every object)."""
        self.admin("ban", "obj.status", "!=", "0")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def _address(value):
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.varnish", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="print deploy/varnish/default.vcl for other app servers")
    render.add_argument("--backend", action="append", type=_address, required=True, help="HOST:PORT of an app server")
    render.add_argument("--purger", action="append", help="an address or network allowed to PURGE (default loopback)")
    render.add_argument("--probe-host", default="localhost", help="Host header of the health check")
    arguments = parser.parse_args(argv)
    purgers = arguments.purger or ("127.0.0.1", "::1")
    sys.stdout.write(render_vcl(arguments.backend, purgers=purgers, probe_host=arguments.probe_host))


if __name__ == "__main__":
    main()
