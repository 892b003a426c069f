"""Container health check: ``python -m services.common.healthcheck <service>``
exits 0 when the service answers its health RPC."""
import sys
import warnings

warnings.simplefilter("ignore")


def main(argv=None):
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.common import settings

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in settings.SERVICES:
        print(f"usage: healthcheck <{'|'.join(settings.SERVICES)}>", file=sys.stderr)
        return 2
    try:
        with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri()}, timeout=5) as proxy:
            result = getattr(proxy, argv[0]).health()
        return 0 if result.get("ok") else 1
    except Exception as exc:  # anything at all means not healthy
        print(f"{argv[0]} unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
