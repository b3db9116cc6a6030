"""State the channels keep between two messages of a person, shared by the cluster's replicas.

Pending "forget me" confirmations (``crs.intake.ForgetRequests``) live in this process with one
server; in the cluster (REDIS_HOST set, scripts/cluster.py) they live in Redis, because the YES
that confirms may reach another replica than the one that asked (round-robin REST and SMS).
"""

from __future__ import annotations

from typing import Any


class RedisForgetRequests:
    """``crs.intake.ForgetRequests`` kept in Redis, for the cluster: the YES that confirms "forget
    me" may reach another replica than the one that asked (round-robin REST and SMS)."""

    def __init__(self, client: Any, seconds: float) -> None:
        self.red = client
        self.seconds = seconds

    @staticmethod
    def _key(conversation: str) -> str:
        return "crs:forget:" + conversation

    def ask(self, conversation: str, now: float | None = None) -> None:
        self.red.set(self._key(conversation), "1", px=int(self.seconds * 1000))

    def pending(self, conversation: str, now: float | None = None) -> bool:
        """Was a confirmation asked for (and not too long ago)? Asking is answered once."""
        pipe = self.red.pipeline()
        pipe.get(self._key(conversation))
        pipe.delete(self._key(conversation))
        asked, _ = pipe.execute()
        return asked is not None


def forget_requests() -> Any:
    """Where pending "forget me" confirmations are kept: Redis when REDIS_HOST is set (the
    cluster), else in this process (crs.intake.ForgetRequests)."""
    import os

    from crs import intake

    host = os.environ.get("REDIS_HOST")
    if not host:
        return intake.ForgetRequests()
    import redis

    client = redis.StrictRedis(
        host=host,
        port=int(os.environ.get("REDIS_PORT") or 6379),
        password=os.environ.get("REDIS_PASSWORD") or None,
        db=int(os.environ.get("REDIS_DB") or 1),
        socket_timeout=5,
    )
    return RedisForgetRequests(client, intake.FORGET_SECONDS)
