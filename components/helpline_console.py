"""The nurses' helpline console, served by the Rasa server at /webhooks/helpline/ (issue 12).

Configured in credentials.yml as ``components.helpline_console.HelplineConsole``. A thin adapter:
the queue, summaries, hours, assist mode and storage are in ``crs/helpline``; the Rasa glue
(silence while held, delivery, following the tracker store) in ``components/helpline.py``; the
pages and script in ``console/``.

Access: every page and API route needs a session (a login of an account made with
``make nurse-add``). Session cookies are HttpOnly, SameSite=Strict, scoped to the console's path,
and Secure behind TLS (an https request, or ``X-Forwarded-Proto: https`` from the proxy). Every
change (POST) needs the session's CSRF token in ``X-CSRF-Token`` and, when the browser sends one,
an Origin of this host. Failed logins are logged, counted per name and per address, and slowed
down (``crs.helpline.auth.login_delay``). Every nurse action goes to the append-only audit log.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import secrets
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict
from urllib.parse import unquote

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from components import helpline
from crs.helpline import auth
from crs.helpline.assist import assist, log_text
from crs.helpline.cases import order_key
from crs.helpline.hours import current_hours
from crs.helpline.schema import migrate
from crs.helpline.store import MAX_NOTE
from crs.helpline.summary import summarise
from crs.redaction import safe_id

logger = logging.getLogger(__name__)

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"
ASSETS = {"console.js": "application/javascript", "console.css": "text/css"}
SESSION_COOKIE = "helpline_session"
LOGIN_COOKIE = "helpline_login"
MAX_BODY = 64 * 1024
MAX_REPLY = 1500
STREAM_SECONDS = 50  # a stream ends after this long; the browser reconnects (EventSource)
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no-referrer would make the Origin of a form post "null"
}


def _secure(request: Request) -> bool:
    return request.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _set_cookie(resp: Any, request: Request, name: str, value: str, path: str, max_age: int | None = None) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = path
    if _secure(request):
        cookie["secure"] = True
    if max_age is not None:
        cookie["max-age"] = max_age


def _error(status: int, message: str, **extra: Any) -> Any:
    return response.json({"error": message, **extra}, status=status, headers=SECURITY_HEADERS)


def _json(data: Any, status: int = 200) -> Any:
    return response.json(data, status=status, headers=SECURITY_HEADERS, default=str)


def _page(body: str, status: int = 200, nonce: str | None = None) -> Any:
    style = f"'nonce-{nonce}'" if nonce else "'self'"
    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": f"default-src 'self'; style-src {style}; script-src 'self'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    }
    return response.html(body, status=status, headers=headers)


class HelplineConsole(InputChannel):
    """The console's pages and JSON API (not a channel people talk through)."""

    @classmethod
    def name(cls) -> str:
        return "helpline"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self) -> None:
        self.runtime: helpline.Runtime | None = None
        self.prefix = "/webhooks/helpline"

    # -- sessions ----------------------------------------------------------------------------
    def _session(self, request: Request) -> Dict[str, str] | None:
        if self.runtime is None:
            return None
        return self.runtime.store.session(request.cookies.get(SESSION_COOKIE), time.time())

    def _origin_ok(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin:
            return True
        return origin.rstrip("/").split("://", 1)[-1] == request.headers.get("host")

    def _change_allowed(self, request: Request, session: Dict[str, str]) -> bool:
        return self._origin_ok(request) and auth.same(request.headers.get("x-csrf-token"), session["csrf"])

    def _body(self, request: Request) -> Dict[str, Any] | None:
        raw = request.body or b""
        if len(raw) > MAX_BODY:
            return None
        try:
            data = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    # -- pages -------------------------------------------------------------------------------
    def login_page(self, request: Request, message: str = "", status: int = 200) -> Any:
        token = secrets.token_urlsafe(24)
        nonce = secrets.token_urlsafe(12)
        hours = current_hours()
        state = "open now" if hours.is_open(time.time()) else "closed now"
        body = (CONSOLE_DIR / "login.html").read_text()
        body = (
            body.replace("{{csrf}}", html.escape(token))
            .replace("{{nonce}}", nonce)
            .replace("{{message}}", html.escape(message))
            .replace("{{hidden}}", "" if message else "hidden")
            .replace("{{hours}}", html.escape(state))
        )
        resp = _page(body, status, nonce)
        _set_cookie(resp, request, LOGIN_COOKIE, token, self.prefix + "/login", 1800)
        return resp

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("helpline_console", __name__)

        @blueprint.listener("after_server_start")
        async def start(app: Any, _: Any) -> None:
            from components.tracker_store import active_store

            store = active_store()
            if store is None:
                logger.warning("helpline console off: it needs the SQL tracker store (endpoints.yml)")
                return
            # a failure here must never stop the server from serving the chat: an exception in a
            # start listener leaves Sanic running but not answering. Three tries, then the console
            # stays off (503) and says so in the log; triage and answers carry on.
            for attempt in range(3):
                try:
                    await asyncio.to_thread(migrate, store.engine)
                    current = helpline.Runtime(app, store.engine)
                    await asyncio.to_thread(current.scan)  # the queue, rebuilt from the tracker store
                    break
                except Exception:  # noqa: BLE001 - logged; the assistant must keep serving
                    logger.exception("helpline console could not start (attempt %d of 3)", attempt + 1)
                    await asyncio.sleep(1 + 2 * attempt)
            else:
                logger.error("helpline console OFF on this server: see the errors above")
                return
            helpline._RUNTIME.append(current)
            self.runtime = current
            self.follower = asyncio.ensure_future(current.follow())
            logger.info("helpline console ready")

        @blueprint.listener("before_server_stop")
        async def stop(app: Any, _: Any) -> None:
            if getattr(self, "follower", None) is not None:
                self.follower.cancel()

        def guarded(handler: Callable) -> Callable:
            """Refuse without a session (401 JSON for the API, the login page otherwise)."""

            async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
                if self.runtime is None:
                    return _error(503, "the helpline console is starting or not configured")
                session = self._session(request)
                api = "/api/" in request.path
                if session is None:
                    if api:
                        return _error(401, "not logged in, or the session expired", login=self.prefix + "/login")
                    return response.redirect(self.prefix + "/login", status=303, headers=SECURITY_HEADERS)
                if request.method not in ("GET", "HEAD") and not self._change_allowed(request, session):
                    logger.warning("helpline csrf refused nurse=%s path=%s", session["nurse"], request.path)
                    return _error(403, "missing or wrong CSRF token")
                if "conversation_id" in kwargs:  # ids have ':' (the page sends it encoded)
                    kwargs["conversation_id"] = unquote(kwargs["conversation_id"])
                return await handler(request, session, *args, **kwargs)

            wrapper.__name__ = handler.__name__
            return wrapper

        @blueprint.route("/", methods=["GET"])
        @guarded
        async def console_page(request: Request, session: Dict[str, str]) -> Any:
            return _page((CONSOLE_DIR / "console.html").read_text())

        @blueprint.route("/assets/<name>", methods=["GET"])
        @guarded
        async def asset(request: Request, session: Dict[str, str], name: str) -> Any:
            if name not in ASSETS:
                return _error(404, "not found")
            return response.text((CONSOLE_DIR / name).read_text(), content_type=ASSETS[name], headers=SECURITY_HEADERS)

        @blueprint.route("/login", methods=["GET"])
        async def login_form(request: Request) -> Any:
            if self._session(request):
                return response.redirect(self.prefix + "/", status=303, headers=SECURITY_HEADERS)
            return self.login_page(request)

        @blueprint.route("/login", methods=["POST"])
        async def login(request: Request) -> Any:
            if self.runtime is None:
                return _error(503, "the helpline console is starting or not configured")
            if not self._origin_ok(request):
                return _error(403, "origin not allowed")
            form = request.form or {}
            name = (form.get("name") or "").strip()
            password = form.get("password") or ""
            if not auth.same(form.get("csrf"), request.cookies.get(LOGIN_COOKIE)):
                return self.login_page(request, "Your login form expired. Please try again.", 403)
            address = request.remote_addr or request.ip or "unknown"
            now = time.time()
            store = self.runtime.store
            counts = await asyncio.to_thread(store.failures, name[:64], address, now)
            failures = counts["name"][0]
            wait = max(
                auth.login_delay(*counts["name"], now),
                auth.login_delay(*counts["address"], now, free=auth.FREE_FAILURES_PER_ADDRESS),
            )
            if wait > 0:
                logger.warning("helpline login slowed name=%s address=%s failures=%d", safe_id(name), address, failures)
                resp = self.login_page(
                    request, f"Too many failed logins. Please wait {int(wait) + 1} seconds and try again.", 429
                )
                resp.headers["Retry-After"] = str(int(wait) + 1)
                return resp
            ok = auth.valid_name(name) and await asyncio.to_thread(store.check_login, name, password[:1024])
            if not ok:
                await asyncio.to_thread(store.record_failure, name[:64] or "-", address, now)
                logger.warning(
                    "helpline login failed name=%s address=%s failures=%d", safe_id(name), address, failures + 1
                )
                store.audit(name[:64] or "-", "login_failed", None, address=address)
                return self.login_page(request, "That name and password do not match.", 401)
            store.clear_failures(name)
            token, _ = store.open_session(name, now)
            store.audit(name, "login", None, address=address)
            resp = response.redirect(self.prefix + "/", status=303, headers=SECURITY_HEADERS)
            _set_cookie(resp, request, SESSION_COOKIE, token, self.prefix, auth.SESSION_MAX_SECONDS)
            del resp.cookies[LOGIN_COOKIE]
            return resp

        @blueprint.route("/api/logout", methods=["POST"])
        @guarded
        async def logout(request: Request, session: Dict[str, str]) -> Any:
            self.runtime.store.close_session(request.cookies.get(SESSION_COOKIE))
            self.runtime.store.audit(session["nurse"], "logout")
            resp = _json({"ok": True, "login": self.prefix + "/login"})
            _set_cookie(resp, request, SESSION_COOKIE, "", self.prefix, 0)
            return resp

        @blueprint.route("/api/me", methods=["GET"])
        @guarded
        async def me(request: Request, session: Dict[str, str]) -> Any:
            hours = current_hours()
            now = time.time()
            return _json(
                {
                    "nurse": session["nurse"],
                    "csrf": session["csrf"],
                    "helpline_open": hours.is_open(now),
                    "opens": None if hours.is_open(now) else hours.opens_phrase(now),
                }
            )

        @blueprint.route("/api/queue", methods=["GET"])
        @guarded
        async def queue(request: Request, session: Dict[str, str]) -> Any:
            return _json({"cases": await asyncio.to_thread(self._queue)})

        @blueprint.route("/api/cases/<conversation_id>", methods=["GET"])
        @guarded
        async def case(request: Request, session: Dict[str, str], conversation_id: str) -> Any:
            found = await asyncio.to_thread(self._case, conversation_id)
            if found is None:
                return _error(404, "no such case")
            return _json(found)

        @blueprint.route("/api/cases/<conversation_id>/claim", methods=["POST"])
        @guarded
        async def claim(request: Request, session: Dict[str, str], conversation_id: str) -> Any:
            store = self.runtime.store
            nurse = session["nurse"]
            won = await asyncio.to_thread(store.claim, conversation_id, nurse, time.time())
            if not won:
                current = store.case(conversation_id)
                if current is None or current["status"] != "open":
                    return _error(404, "no open case with this id")
                store.audit(nurse, "claim_refused", conversation_id, holder=current["holder"])
                return _error(409, f"{current['holder']} already holds this conversation", holder=current["holder"])
            store.audit(nurse, "claim", conversation_id)
            notice = await self._notice(conversation_id, "held", nurse)
            await self.runtime.notify([conversation_id])
            return _json({"ok": True, "holder": nurse, "notice": notice})

        @blueprint.route("/api/cases/<conversation_id>/notes", methods=["POST"])
        @guarded
        async def note(request: Request, session: Dict[str, str], conversation_id: str) -> Any:
            data = self._body(request)
            text = (data or {}).get("text")
            if not isinstance(text, str) or not text.strip():
                return _error(400, "a note needs some text")
            if len(text) > MAX_NOTE:
                return _error(413, f"a note may have at most {MAX_NOTE} characters; nothing was saved")
            store = self.runtime.store
            if store.case(conversation_id) is None:
                return _error(404, "no such case")
            saved = store.add_note(conversation_id, session["nurse"], text)
            store.audit(session["nurse"], "note", conversation_id, note_id=saved["id"], chars=len(text))
            await self.runtime.notify([conversation_id])
            return _json(saved)

        @blueprint.route("/api/cases/<conversation_id>/reply", methods=["POST"])
        @guarded
        async def reply(request: Request, session: Dict[str, str], conversation_id: str) -> Any:
            data = self._body(request)
            text = (data or {}).get("text")
            if not isinstance(text, str) or not text.strip():
                return _error(400, "a reply needs some text")
            text = text.strip()
            if len(text) > MAX_REPLY:
                return _error(413, f"a reply may have at most {MAX_REPLY} characters; nothing was sent")
            store = self.runtime.store
            current = store.case(conversation_id)
            if current is None or current["status"] != "open":
                return _error(404, "no open case with this id")
            if current["holder"] != session["nurse"]:
                return _error(409, "claim the conversation before replying", holder=current["holder"])
            if current["gone"]:
                return _error(410, "the person deleted this conversation; nothing was sent")
            try:
                channel = await self.runtime.deliver(conversation_id, text, "nurse_reply", session["nurse"])
            except helpline.DeliveryError as error:
                store.audit(session["nurse"], "reply_failed", conversation_id, reason=str(error))
                return _error(502, str(error))
            except Exception as error:  # noqa: BLE001 - the nurse must know it was not sent
                logger.error(
                    "helpline reply failed conversation=%s error=%s", safe_id(conversation_id), type(error).__name__
                )
                store.audit(session["nurse"], "reply_failed", conversation_id, reason=type(error).__name__)
                return _error(502, "the reply could not be sent; please try again")
            store.audit(session["nurse"], "reply", conversation_id, channel=channel, chars=len(text))
            await self.runtime.notify([conversation_id])
            return _json({"ok": True, "channel": channel})

        @blueprint.route("/api/cases/<conversation_id>/resolve", methods=["POST"])
        @guarded
        async def resolve(request: Request, session: Dict[str, str], conversation_id: str) -> Any:
            store = self.runtime.store
            nurse = session["nurse"]
            current = store.case(conversation_id)
            if current is None or current["status"] != "open":
                return _error(404, "no open case with this id")
            if current["holder"] not in (None, nurse):
                return _error(409, f"{current['holder']} holds this conversation", holder=current["holder"])
            was_held = current["holder"] == nurse
            if not await asyncio.to_thread(store.resolve, conversation_id, nurse, time.time()):
                return _error(409, "the case changed; reload it")
            store.audit(nurse, "resolve", conversation_id)
            notice = await self._notice(conversation_id, "resumed", nurse) if was_held and not current["gone"] else None
            store.forget_address(conversation_id)  # the number is kept only while the case is open
            await self.runtime.notify([conversation_id])
            return _json({"ok": True, "notice": notice})

        @blueprint.route("/api/cases/<conversation_id>/triage-log", methods=["POST"])
        @guarded
        async def triage_log(request: Request, session: Dict[str, str], conversation_id: str) -> Any:
            data = self._body(request) or {}
            lines = data.get("lines")
            if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines) or not lines:
                return _error(400, "lines must be a list of what the caller said")
            store = self.runtime.store
            if store.case(conversation_id) is None:
                return _error(404, "no such case")
            result = assist(self.runtime.engine, self.runtime.library, [x[:2000] for x in lines[:50]])
            asked = [x for x in data.get("asked") or [] if isinstance(x, str)][:50]
            text = log_text(result["log"]) + ("\nAsked about: " + ", ".join(asked) if asked else "")
            saved = store.add_note(conversation_id, session["nurse"], text[:MAX_NOTE], kind="triage_log")
            store.audit(session["nurse"], "triage_log", conversation_id, note_id=saved["id"], level=result["level"])
            await self.runtime.notify([conversation_id])
            return _json(saved)

        @blueprint.route("/api/assist", methods=["POST"])
        @guarded
        async def assist_mode(request: Request, session: Dict[str, str]) -> Any:
            data = self._body(request)
            lines = (data or {}).get("lines")
            if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
                return _error(400, "lines must be a list of what the caller said")
            locale = (data or {}).get("locale")
            result = await asyncio.to_thread(
                assist,
                self.runtime.engine,
                self.runtime.library,
                [x[:2000] for x in lines[:50]],
                locale if isinstance(locale, str) else None,
            )
            self.runtime.store.audit(session["nurse"], "assist", None, level=result["level"], lines=len(lines))
            return _json(result)

        @blueprint.route("/api/audit", methods=["GET"])
        @guarded
        async def audit_log(request: Request, session: Dict[str, str]) -> Any:
            conversation_id = request.args.get("conversation")
            return _json({"entries": self.runtime.store.audit_log(conversation_id)})

        @blueprint.route("/api/stream", methods=["GET"])
        @guarded
        async def stream(request: Request, session: Dict[str, str]) -> Any:
            """Server-sent events: ``queue`` with the ids of conversations that changed."""
            resp = await request.respond(
                content_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
            )
            current = self.runtime
            await resp.send("retry: 1000\nevent: hello\ndata: {}\n\n")
            started = time.monotonic()
            seen = current.version
            while time.monotonic() - started < STREAM_SECONDS:
                async with current.changed:
                    try:
                        await asyncio.wait_for(current.changed.wait_for(lambda seen=seen: current.version != seen), 15)
                    except asyncio.TimeoutError:
                        pass
                if self._session(request) is None:
                    await resp.send("event: expired\ndata: {}\n\n")
                    break
                if current.version != seen:
                    seen = current.version
                    await resp.send(f"event: queue\ndata: {json.dumps({'changed': current.last_changed})}\n\n")
                else:
                    await resp.send(": keep-alive\n\n")
            await resp.eof()

        return blueprint

    # -- helpers -----------------------------------------------------------------------------
    def _queue(self) -> list:
        store = self.runtime.store
        hours = current_hours()
        entries = []
        for case in sorted(store.open_cases(), key=order_key):
            events = store.conversation_events(case["conversation_id"])
            summary = summarise(case["conversation_id"], events, self.runtime.engine.rules, hours.recommendations, case)
            entries.append({**case, "summary": summary})
        return entries

    def _case(self, conversation_id: str) -> Dict[str, Any] | None:
        store = self.runtime.store
        case = store.case(conversation_id)
        if case is None:
            return None
        events = store.conversation_events(conversation_id)
        hours = current_hours()
        return {
            **case,
            "summary": summarise(conversation_id, events, self.runtime.engine.rules, hours.recommendations, case),
            "transcript": transcript(events, case),
            "notes": store.notes(conversation_id),
            "audit": store.audit_log(conversation_id, 100),
        }

    async def _notice(self, conversation_id: str, key: str, nurse: str) -> str | None:
        """Tell the person a nurse holds the conversation, or that the assistant is back."""
        store = self.runtime.store
        locale = self.runtime.library.locale(None)
        text = current_hours().notice(key, locale.emergency_number, locale.advice_line)
        try:
            channel = await self.runtime.deliver(conversation_id, text, key, nurse)
            return channel
        except Exception as error:  # noqa: BLE001 - the claim or resolve stands; the nurse is told
            store.audit(nurse, f"{key}_notice_failed", conversation_id, reason=type(error).__name__)
            return None


def transcript(events: list, case: Dict[str, Any]) -> list:
    """The conversation as the nurse reads it: who said what and when, flags, nothing as HTML."""
    lines = []
    claimed = case.get("claimed_at")
    for event in events:
        kind = event.get("event")
        at = float(event.get("timestamp") or 0)
        if kind == "user":
            triage = (event.get("parse_data") or {}).get("triage") or {}
            level = triage.get("level") or "none"
            lines.append(
                {
                    "who": "person",
                    "at": at,
                    "text": event.get("text") or "",
                    "level": level,
                    "flag": bool(claimed and at > claimed and level == "emergency" and case.get("holder")),
                    "asked_for_nurse": bool((event.get("metadata") or {}).get(helpline.REQUEST_KEY)),
                }
            )
        elif kind == "bot" and (event.get("text") or (event.get("data") or {}).get("custom")):
            custom = (event.get("data") or {}).get("custom") or {}
            meta = event.get("metadata") or {}
            lines.append(
                {
                    "who": "nurse" if (custom.get("helpline") or {}).get("kind") == "nurse_reply" else "assistant",
                    "nurse": meta.get("nurse"),
                    "at": at,
                    "text": event.get("text") or "",
                    "instruction": (custom.get("instruction") or {}).get("level"),
                    "quotes": [q.get("passage_id") for q in custom.get("quotes") or []],
                }
            )
    return lines
