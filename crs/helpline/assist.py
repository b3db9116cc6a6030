"""Assist mode: a nurse types what a caller says; the same triage engine and reviewed content give
a clinician's layout (rule ids and the learned detector that fired, the red flags not yet asked
about as a checklist, the passages to read out with full citations, a triage log entry)."""

from __future__ import annotations

import time
from typing import Any, Dict, List

from crs.content import Library
from crs.replies import triage_reply
from crs.triage import TriageEngine


def assist(engine: TriageEngine, library: Library, lines: List[str], locale_id: str | None = None) -> Dict[str, Any]:
    locale = library.locale(locale_id)
    specs = {spec["id"]: spec for spec in engine.rules["findings"]}
    findings: List[Dict[str, Any]] = []
    status: Dict[str, str] = {}
    level = "none"
    for number, line in enumerate(line for line in lines if line and line.strip()):
        triage = engine.assess(line)
        level = max(level, triage.level, key=("none", "urgent", "emergency").index)
        for finding in triage.findings:
            state = {"present": "present", "negated": "absent"}.get(finding.assertion)
            if state == "present" or (state == "absent" and finding.id not in status):
                status[finding.id] = state
            findings.append(
                {
                    "line": number,
                    "rule": finding.id,
                    "label": finding.label,
                    "level": finding.level,
                    "assertion": finding.assertion,
                    "words": finding.text,
                    "detector": finding.detector,
                    "score": finding.score,
                    "passage_id": finding.passage_id,
                }
            )
    checklist = [
        {"id": fid, "label": spec["label"], "group": spec.get("check_group")}
        for fid, spec in specs.items()
        if spec["level"] == "emergency" and fid not in status
    ]
    instruction = None
    passages: List[Dict[str, Any]] = []
    if level in ("emergency", "urgent"):
        present = [f for f in findings if f["assertion"] == "present"]
        triage = {
            "level": level,
            "findings": [
                {"id": f["rule"], "level": f["level"], "text": f["words"], "assertion": "present"} for f in present
            ],
        }
        reply = triage_reply(library, f"utter_{level}", locale, triage)
        instruction = reply.payload["instruction"]["text"]
        passages = [
            {
                "text": quote["text"],
                "title": quote.get("title"),
                "source_id": quote.get("source_id"),
                "passage_id": quote.get("passage_id"),
                "url": quote.get("url"),
                "last_reviewed": quote.get("last_reviewed"),
                "next_review": quote.get("next_review"),
                "review_overdue": quote.get("review_overdue"),
            }
            for quote in reply.payload.get("quotes") or []
        ]
    log = {
        "at": time.time(),
        "level": level,
        "caller_said": [line for line in lines if line and line.strip()],
        "present": sorted(fid for fid, s in status.items() if s == "present"),
        "absent": sorted(fid for fid, s in status.items() if s == "absent"),
        "not_asked": [item["id"] for item in checklist],
        "rules": sorted({f["rule"] for f in findings}),
        "detectors": sorted({f["detector"] for f in findings}),
        "passages": [p["passage_id"] for p in passages],
    }
    return {
        "level": level,
        "instruction": instruction,
        "findings": findings,
        "checklist": checklist,
        "passages": passages,
        "log": log,
    }


def log_text(log: Dict[str, Any]) -> str:
    """A triage log entry as the note saved to the case (UKONS: a triage log per call)."""
    lines = [
        f"Triage log (assist mode): level {str(log.get('level', 'none')).upper()}",
        "Caller said: " + " / ".join(str(x) for x in log.get("caller_said") or []),
        "Red flags present: " + (", ".join(log.get("present") or []) or "none"),
        "Red flags absent: " + (", ".join(log.get("absent") or []) or "none"),
        "Not yet asked: " + (", ".join(log.get("not_asked") or []) or "none"),
        "Rules fired: "
        + (", ".join(log.get("rules") or []) or "none")
        + (f" (detectors: {', '.join(log.get('detectors') or [])})" if log.get("detectors") else ""),
        "Passages read out: " + (", ".join(log.get("passages") or []) or "none"),
    ]
    return "\n".join(lines)
