"""Container health checks.

``python -m services.common.healthcheck <service>`` exits 0 when the service
answers its health RPC (whichever of its processes takes the request: the
service as a whole, its database included; a readiness probe).

``python -m services.common.healthcheck --heartbeat FILE [--max-age S]`` exits
0 when this process's heartbeat file (``LEC_HEARTBEAT_FILE``) was written in
the last S seconds (default 30): this very process is alive and its event loop
turns (a liveness probe; it depends on neither the broker nor the database,
so an outage of theirs restarts nothing).

Both start a Python process for every check (about a third of a CPU-second).
Kubernetes probes each process over HTTP instead: ``/livez`` and ``/readyz`` on
its operations port (services.common.ops), which also answer for this very
process rather than for whichever replica takes an RPC. docker-compose.yml and
the launcher keep these commands.
"""
import sys
import warnings

warnings.simplefilter("ignore")


def check_heartbeat(path, max_age):
    from services.common.heartbeat import age

    seconds = age(path)
    if seconds is None:
        print(f"no heartbeat in {path}", file=sys.stderr)
        return 1
    if seconds > max_age:
        print(f"heartbeat {path} is {seconds:.0f} s old (more than {max_age:g} s)", file=sys.stderr)
        return 1
    return 0


def check_service(name):
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common import settings
    from services.common.context import system_context
    from services.common.rpc import ClassicStandaloneReplyListener

    try:
        with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=5,
                             context_data=system_context("healthcheck"),
                             reply_listener_cls=ClassicStandaloneReplyListener) as proxy:
            result = getattr(proxy, name).health()
        return 0 if result.get("ok") else 1
    except Exception as exc:  # anything at all means not healthy
        print(f"{name} unhealthy: {exc}", file=sys.stderr)
        return 1


def main(argv=None):
    from services.common import settings

    argv = sys.argv[1:] if argv is None else argv
    usage = (f"usage: healthcheck <{'|'.join(settings.SERVICES)}>\n"
             "       healthcheck --heartbeat FILE [--max-age SECONDS]")
    if argv[:1] == ["--heartbeat"]:
        try:
            path = argv[1]
            rest = argv[2:]
            max_age = 30.0
            if rest[:1] == ["--max-age"] and len(rest) == 2:
                max_age = float(rest[1])
            elif rest:
                raise ValueError(rest)
        except (IndexError, ValueError):
            print(usage, file=sys.stderr)
            return 2
        return check_heartbeat(path, max_age)
    if len(argv) != 1 or argv[0] not in settings.SERVICES:
        print(usage, file=sys.stderr)
        return 2
    return check_service(argv[0])


if __name__ == "__main__":
    sys.exit(main())
