"""The lab: real DNS and WHOIS servers on 127.0.0.1 for tests, benchmarks and ``domwatch demo``."""

from domwatch.lab.dns_server import Behaviour, DnsServer
from domwatch.lab.runner import Lab, Server
from domwatch.lab.whois_server import Answer, WhoisBehaviour, WhoisServer

__all__ = ["Answer", "Behaviour", "DnsServer", "Lab", "Server", "WhoisBehaviour", "WhoisServer"]
