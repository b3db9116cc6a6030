"""The structured summary of a conversation for a nurse, and its SBAR view (pure functions of the
tracker events). Every red flag of the rules is listed present / absent / unsure / not asked,
with the person's own words and the time; other symptoms; treatments named; the answers to the
yes/no check; the instructions and quotes already given (by id); the channel; who holds it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List

from crs.helpline.cases import asked_for_human, channel_of, user_level

STATUS_ORDER = ("present", "unsure", "absent", "not_asked")


def _clock(at: float | None) -> str:
    if not at:
        return ""
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _spec(rules: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {spec["id"]: spec for spec in rules["findings"]}


def summarise(
    conversation_id: str,
    events: List[Dict[str, Any]],
    rules: Dict[str, Any],
    recommendations: Dict[str, str] | None = None,
    case: Dict[str, Any] | None = None,
) -> Dict[str, Any]:
    specs = _spec(rules)
    red_ids = [fid for fid, spec in specs.items() if spec["level"] == "emergency"]
    groups = {group["id"]: group["findings"] for group in rules["check_groups"]}
    status: Dict[str, str] = {}
    words: Dict[str, List[Dict[str, Any]]] = {}
    treatments: Dict[str, Dict[str, Any]] = {}
    check: Dict[str, str] = {}
    given: List[Dict[str, Any]] = []
    level = "none"
    requested_at = None
    started = None
    claimed_at = (case or {}).get("claimed_at")
    during_hold: List[Dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        at = float(event.get("timestamp") or 0)
        if kind == "user":
            started = started or at
            parse = event.get("parse_data") or {}
            triage = parse.get("triage") or {}
            this = user_level(event)
            level = max(level, this, key=("none", "urgent", "emergency").index)
            if asked_for_human(event) and requested_at is None:
                requested_at = at
            for finding in triage.get("findings") or []:
                fid = finding.get("id")
                if fid not in specs:
                    continue
                assertion = finding.get("assertion")
                state = {"present": "present", "negated": "absent"}.get(assertion)
                if state == "present" or (state == "absent" and status.get(fid) in (None, "unsure")):
                    status[fid] = state
                words.setdefault(fid, []).append(
                    {
                        "text": finding.get("text"),
                        "assertion": assertion,
                        "at": at,
                        "time": _clock(at),
                        "rule": finding.get("detector", "rules"),
                    }
                )
            for entity in parse.get("entities") or []:
                if entity.get("entity") == "treatment":
                    treatments.setdefault(str(entity.get("value")), {"id": str(entity.get("value")), "at": at})
            if claimed_at and at > claimed_at and this == "emergency":
                during_hold.append({"at": at, "time": _clock(at), "text": event.get("text") or ""})
        elif kind == "slot":
            name = event.get("name") or ""
            if name.startswith("check_") and name[6:] in groups and event.get("value"):
                check[name[6:]] = event["value"]
                for fid in groups[name[6:]]:
                    if status.get(fid) != "present":
                        status[fid] = {"present": "present", "absent": "absent", "unsure": "unsure"}.get(
                            event["value"], status.get(fid)
                        )
            elif name == "triage_level" and event.get("value") in ("urgent", "emergency"):
                level = max(level, event["value"], key=("none", "urgent", "emergency").index)
        elif kind == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            instruction = custom.get("instruction") or {}
            quotes = [q.get("passage_id") for q in custom.get("quotes") or [] if q.get("passage_id")]
            helpline = custom.get("helpline") or {}
            if instruction or quotes or helpline:
                given.append(
                    {
                        "at": at,
                        "time": _clock(at),
                        "instruction": instruction.get("level"),
                        "quotes": quotes,
                        "topic": custom.get("topic"),
                        "helpline": helpline.get("kind"),
                    }
                )

    def entry(fid: str) -> Dict[str, Any]:
        spec = specs[fid]
        return {
            "id": fid,
            "label": spec["label"],
            "status": status.get(fid, "not_asked"),
            "words": words.get(fid, []),
        }

    red_flags = [entry(fid) for fid in red_ids]
    symptoms = [entry(fid) for fid in specs if specs[fid]["level"] != "emergency" and fid in status]
    summary = {
        "conversation_id": conversation_id,
        "channel": channel_of(conversation_id, events),
        "level": level,
        "requested_at": requested_at,
        "started_at": started,
        "red_flags": red_flags,
        "symptoms": symptoms,
        "treatments": sorted(treatments.values(), key=lambda t: t["at"]),
        "check": [{"question": gid, "answer": check[gid]} for gid in groups if gid in check],
        "given": given,
        "red_flags_during_hold": during_hold,
        "holder": (case or {}).get("holder"),
    }
    summary["sbar"] = sbar(summary, recommendations or {})
    return summary


def _names(flags: List[Dict[str, Any]], state: str) -> str:
    chosen = [f["label"] for f in flags if f["status"] == state]
    return ", ".join(chosen) if chosen else "none"


def sbar(summary: Dict[str, Any], recommendations: Dict[str, str]) -> Dict[str, str]:
    present = [f for f in summary["red_flags"] if f["status"] == "present"]
    situation_parts = []
    for flag in present:
        said = next((w for w in flag["words"] if w["assertion"] == "present"), None)
        situation_parts.append(f"{flag['label']}" + (f" (“{said['text']}”, {said['time']})" if said else ""))
    level = summary["level"]
    situation = f"Triage level {level.upper()}. " + (
        "Red flags present: " + "; ".join(situation_parts) + "." if situation_parts else "No red flag present."
    )
    if summary["requested_at"]:
        situation += " Asked to talk to a nurse."
    treatments = ", ".join(t["id"] for t in summary["treatments"]) or "none named"
    background = f"Contact by {summary['channel']}; treatments or drugs mentioned: {treatments}."
    symptoms = ", ".join(f"{s['label']} ({s['status']})" for s in summary["symptoms"]) or "none reported"
    assessment = (
        f"Red flags present: {_names(summary['red_flags'], 'present')}. Unsure: "
        f"{_names(summary['red_flags'], 'unsure')}. Absent: {_names(summary['red_flags'], 'absent')}. "
        f"Not asked: {_names(summary['red_flags'], 'not_asked')}. Other symptoms: {symptoms}."
    )
    given = [g for g in summary["given"] if g["instruction"]]
    told = (
        "Already told: " + ", ".join(f"{g['instruction']} instruction at {g['time']}" for g in given) + ". "
        if given
        else "No triage instruction given yet. "
    )
    key = level if level in ("emergency", "urgent") else "request"
    recommendation = told + recommendations.get(key, "")
    return {
        "situation": situation,
        "background": background,
        "assessment": assessment,
        "recommendation": recommendation.strip(),
    }
