"""Generate Earshot's demo data set into demo/ (deterministic: fixed seed, fixed scripts).

    python demo/make_demo.py            # everything (calls need espeak-ng and sox)
    python demo/make_demo.py --no-audio # text files only (manifest, transcripts, chats, e-mails, social, surveys)

The output is committed; `earshot demo load` reads it and never runs this script. File formats:
see demo/README.md (the shared contract between this generator and the importers).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

DEMO = Path(__file__).resolve().parent
sys.path.insert(0, str(DEMO))
OUT = DEMO  # where the data set is written (--out; the tests regenerate the text files into a temp dir)

from calls_script import AGENT_VOICES, CALLS  # noqa: E402
from content import CHATS, EMAILS, SOCIAL  # noqa: E402
from customers import CUSTOMERS  # noqa: E402
from surveys_spec import STORY_SURVEYS  # noqa: E402

SEED = 20260914
RATE = 16000
BITRATE = 24000  # Opus bit rate for stereo 16 kHz speech (mono calls use 16 kbit/s)
MIN_S, MAX_S = 20.5, 44.5
AGENT_SITES = {"ada": "Downtown shop", "ben": "Riverside shop", "cara": "Downtown shop", "dan": "Riverside shop"}

MANIFEST_COLUMNS = ["external_id", "file", "started_at", "direction", "queue", "agent", "customer_phone",
                    "customer_name", "customer_email", "channel_map", "transfers"]
SURVEY_COLUMNS = ["response_id", "invited_at", "responded_at", "customer_email", "customer_phone",
                  "interaction_external_id", "interaction_source", "channel", "agent", "shop", "rating", "score",
                  "comment"]


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: ("" if row.get(key) is None else row[key]) for key in columns})
    write_text(path, buffer.getvalue())


# ---------------------------------------------------------------------------------------------------- audio


def synth(text: str, voice: str, pitch: int, speed: int) -> np.ndarray:
    """espeak-ng -> sox (resample to 16 kHz mono s16) -> float32 samples."""
    ssml = ["-m"] if text.startswith("<speak>") else []  # SSML for <break/> pauses between digit groups
    wav = subprocess.run(["espeak-ng", *ssml, "-v", voice, "-p", str(pitch), "-s", str(speed), "--stdout", text],
                         check=True, capture_output=True).stdout
    raw = subprocess.run(["sox", "-R", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16",
                          "-c", "1", "-", "trim", "0.02", "reverse", "silence", "1", "0.02", "0.5%", "reverse"],
                         input=wav, check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32)


def layout_call(call: dict[str, Any], speed: int, rng: random.Random) -> dict[str, Any]:
    """Place the turns on a timeline: returns both channels, the transcript and the transfer offsets."""
    agent = call["agent"]
    placed: list[tuple[float, str, str, np.ndarray]] = []
    transfers: list[str] = []
    cursor = 0.6
    previous_end = cursor
    for turn in call["turns"]:
        speaker, text = turn[0], turn[1]
        options: dict[str, Any] = turn[2] if len(turn) > 2 else {}
        if options.get("agent"):
            agent = options["agent"]
        if speaker == "A":
            voice, pitch = AGENT_VOICES[agent]
        else:
            voice, pitch = call["voice"]
        samples = synth(options.get("say", text), voice, pitch, speed + (0 if speaker == "A" else -8))
        start = previous_end + rng.uniform(0.25, 0.7)
        if options.get("overlap"):
            start = previous_end - options["overlap"]
        if options.get("agent"):
            transfers.append(f"{agent}@{call_queue(call, agent)}@{start - 0.3:.1f}")
        placed.append((start, speaker, text, samples))
        previous_end = start + len(samples) / RATE
        previous_end += options.get("hold", 0.0)
    total = previous_end + 0.8
    channels = np.zeros((2, int(total * RATE) + 1), dtype=np.float32)
    for start, speaker, _text, samples in placed:
        index = int(start * RATE)
        channels[0 if speaker == "A" else 1, index:index + len(samples)] += samples
    transcript = "".join(f"{'AGENT' if speaker == 'A' else 'CUSTOMER'}: {text}\n"
                         for _start, speaker, text, _samples in sorted(placed, key=lambda item: item[0]))
    return {"channels": channels, "duration": total, "transcript": transcript, "transfers": ";".join(transfers)}


def call_queue(call: dict[str, Any], agent: str) -> str:
    return {"ada": "Billing", "ben": "Billing", "cara": "Technical", "dan": "Technical"}.get(agent, call["queue"])


def render_call(call: dict[str, Any]) -> dict[str, Any]:
    """Lay out the call at the agent's pace; speed up or slow down until it lasts 20-45 s."""
    speed = 165
    for _attempt in range(3):  # 165, 175 or 185 words a minute at most: faster speech is hard to transcribe
        result = layout_call(call, speed, random.Random(f"{SEED}-{call['external_id']}"))
        if result["duration"] > MAX_S:
            speed += 10
        elif result["duration"] < MIN_S:
            speed -= 10
        else:
            result["speed"] = speed
            return result
    raise SystemExit(f"{call['external_id']}: cannot fit 20-45 s (last {result['duration']:.1f} s)")


def encode_opus(path: Path, channels: np.ndarray, mono: bool, seed: str) -> None:
    import av

    noise = np.random.default_rng(abs(hash_seed(seed))).normal(0.0, 12.0, channels.shape).astype(np.float32)
    signal = channels + noise  # a faint line-noise floor, like a real phone line
    if mono:
        signal = signal.sum(axis=0, keepdims=True) * 0.8
    pcm = np.clip(signal, -32768, 32767).astype(np.int16)
    layout = "mono" if mono else "stereo"
    interleaved = pcm.T.reshape(1, -1)
    container = av.open(str(path), "w", format="ogg", options={"fflags": "+bitexact"})
    stream = container.add_stream("libopus", rate=RATE, layout=layout)
    stream.bit_rate = BITRATE if not mono else 16000
    frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
    frame.sample_rate = RATE
    for packet in stream.encode(frame):
        container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()


def hash_seed(text: str) -> int:
    value = 0
    for char in f"{SEED}{text}":
        value = (value * 131 + ord(char)) % (2**31)
    return value


def generate_calls(audio: bool) -> dict[str, Any]:
    calls_dir = OUT / "calls"
    calls_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    seconds = 0.0
    for call in CALLS:
        customer = CUSTOMERS[call["customer"]]
        mono = call["layout"] == "mono"
        name = f"{call['external_id']}.ogg"
        if audio:
            result = render_call(call)
            encode_opus(calls_dir / name, result["channels"], mono, call["external_id"])
            write_text(calls_dir / f"{call['external_id']}.txt", result["transcript"])
            transfers = result["transfers"]
            seconds += result["duration"]
            print(f"  {call['external_id']}: {result['duration']:.1f} s {'mono' if mono else 'stereo'}, "
                  f"{result['speed']} wpm"
                  f"{' transfers ' + transfers if transfers else ''}")
        else:
            transfers = previous_manifest().get(call["external_id"], {}).get("transfers", "")
            write_text(calls_dir / f"{call['external_id']}.txt", transcript_only(call))
        rows.append({
            "external_id": call["external_id"], "file": name, "started_at": call["started_at"],
            "direction": call["direction"], "queue": call["queue"], "agent": call["agent"],
            "customer_phone": customer.phone, "customer_name": customer.name, "customer_email": customer.email,
            "channel_map": "mixed" if mono else "agent,customer", "transfers": transfers,
        })
    write_csv(calls_dir / "manifest.csv", MANIFEST_COLUMNS, rows)
    return {"calls": len(rows), "audio_seconds": seconds}


def transcript_only(call: dict[str, Any]) -> str:
    return "".join(f"{'AGENT' if turn[0] == 'A' else 'CUSTOMER'}: {turn[1]}\n" for turn in call["turns"])


def previous_manifest() -> dict[str, dict[str, str]]:
    path = OUT / "calls" / "manifest.csv"
    if not path.exists():
        path = DEMO / "calls" / "manifest.csv"  # the committed offsets (transfers come from the audio timeline)
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["external_id"]: row for row in csv.DictReader(handle)}


# ---------------------------------------------------------------------------------------------------- chats

AGENT_NAMES = {"ada": "Ada", "ben": "Ben", "cara": "Cara", "dan": "Dan", "sam": "Sam"}
BOT_NAME = "Kes (virtual assistant)"
NO_PHONE_CHATS = {"chat-004", "chat-013", "chat-020"}  # web chats where the customer gave no phone number


def generate_chats() -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for chat in CHATS:
        rng = random.Random(f"{SEED}-{chat['id']}")
        customer = CUSTOMERS[chat["customer"]]
        state: dict[str, Any] = {"moment": parse(chat["started_at"]), "queue": chat["queue"], "agent": None}
        base = {"conversation_id": chat["id"], "customer_email": customer.email,
                "customer_phone": None if chat["id"] in NO_PHONE_CHATS else customer.phone}
        first = True
        for message in chat["messages"]:
            who, text = message[0], message[1]
            options: dict[str, Any] = message[2] if len(message) > 2 else {}
            if not first:
                default = {"C": rng.uniform(15, 75), "B": rng.uniform(2, 6), "S": rng.uniform(1, 4)}.get(
                    who[0], rng.uniform(30, 110))
                state["moment"] += timedelta(seconds=round(options.get("after", default)))
            first = False
            said: list[tuple[str, str, str]] = []
            if who.startswith("A:"):
                username = who[2:]
                if username != state["agent"]:
                    state["agent"] = username
                    said.append(("system", "System", f"{AGENT_NAMES[username]} joined the chat."))
                said.append(("agent", AGENT_NAMES[username], text))
            elif who == "C":
                said.append(("customer", customer.name, text))
            elif who == "B":
                said.append(("bot", BOT_NAME, text))
            else:
                if text.startswith("Chat transferred to "):
                    state["queue"] = text.removeprefix("Chat transferred to ").rstrip(".")
                said.append(("system", "System", text))
            for index, (role, name, words) in enumerate(said):
                if index:
                    state["moment"] += timedelta(seconds=round(rng.uniform(5, 20)))
                number = sum(1 for line in lines if line["conversation_id"] == chat["id"]) + 1
                lines.append({
                    "conversation_id": chat["id"], "message_id": f"{chat['id']}-m{number:02d}",
                    "sent_at": iso(state["moment"]), "author_role": role, "author_name": name,
                    "agent": state["agent"], "customer_email": base["customer_email"],
                    "customer_phone": base["customer_phone"], "queue": state["queue"], "text": words,
                })
    write_text(OUT / "chats.jsonl", "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return lines


# ---------------------------------------------------------------------------------------------------- e-mails

SUPPORT_ADDRESS = "Kestrel Support <support@support.example.com>"


def tiny_pdf(lines: list[str]) -> bytes:
    """A minimal, valid one-page PDF (Helvetica text), built by hand so it is byte-for-byte reproducible."""
    text = "BT /F1 12 Tf 56 780 Td 16 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def text_to_html(text: str) -> str:
    from html import escape

    return "".join(f"<p>{escape(block).replace(chr(10), '<br>')}</p>" for block in text.split("\n\n"))


def generate_emails() -> list[dict[str, Any]]:
    from email import policy
    from email.message import EmailMessage
    from email.utils import format_datetime

    out_dir = OUT / "emails"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir()
    summary = []
    eml_policy = policy.default.clone(linesep="\n")
    for thread in EMAILS:
        rng = random.Random(f"{SEED}-{thread['id']}")
        customer = CUSTOMERS[thread["customer"]]
        customer_from = f"{customer.name} <{customer.email}>"
        moment = parse(thread["started_at"])
        ids: list[str] = []
        for number, message in enumerate(thread["messages"], start=1):
            sender, body = message[0], message[1]
            options: dict[str, Any] = message[2] if len(message) > 2 else {}
            if number > 1:
                hours = rng.uniform(2, 26) if sender.startswith("A:") else rng.uniform(1, 18)
                moment += timedelta(minutes=round(hours * 60))
                if sender.startswith("A:") and not 8 <= moment.hour < 19:  # agents answer in office hours
                    moment = (moment + timedelta(hours=12)).replace(hour=8, minute=rng.randint(5, 55))
            msg = EmailMessage(policy=eml_policy)
            if sender.startswith("A:"):
                username = sender[2:]
                msg["From"] = f"{AGENT_NAMES[username]} (Kestrel Support) <{username}@support.example.com>"
                msg["To"] = customer_from
                message_id = f"{thread['id']}-{number}@support.example.com"
            else:
                msg["From"] = customer_from
                msg["To"] = SUPPORT_ADDRESS
                message_id = f"{thread['id']}-{number}@mail.{customer.email.split('@')[1]}"
            msg["Subject"] = thread["subject"] if number == 1 else f"Re: {thread['subject']}"
            msg["Date"] = format_datetime(moment)
            msg["Message-ID"] = f"<{message_id}>"
            if ids:
                msg["In-Reply-To"] = f"<{ids[-1]}>"
                msg["References"] = " ".join(f"<{item}>" for item in ids)
            if options.get("html"):
                msg.set_content(body, subtype="html")
            else:
                msg.set_content(body)
            if options.get("alternative"):
                msg.add_alternative(text_to_html(body), subtype="html")
            if options.get("attach_pdf"):
                pdf = tiny_pdf(["Kestrel Telecom", f"Bill for {customer.name}", "Period: 1-31 August 2026",
                                "Broadband 500 Mb: GBP 32.00", "Total due: GBP 32.00"])
                msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="kestrel-bill-2026-08.pdf")
            for index, part in enumerate(msg.walk()):
                if part.is_multipart():
                    part.set_boundary(f"===============demo{thread['id']}{number}{index}==")
            write_text(out_dir / f"{thread['id']}-{number}.eml", msg.as_string())
            ids.append(message_id)
        summary.append({"thread": thread["id"], "root": ids[0], "messages": len(ids)})
    return summary


# ---------------------------------------------------------------------------------------------------- social

BRAND = {
    "twitter": ("KestrelHelp", "Kestrel Help", 48210),
    "instagram": ("kestreltelecom", "Kestrel Telecom", 31800),
    "facebook": ("KestrelTelecom", "Kestrel Telecom", 120500),
}


def post_id(platform: str, thread_no: int, post_no: int) -> str:
    if platform == "twitter":
        return str(1846000000000000000 + thread_no * 1_000_000_000 + post_no * 1_000_003)
    if platform == "facebook":
        return f"10008{thread_no:02d}{post_no:02d}"
    return f"C{thread_no:02d}{post_no:02d}kst"


def post_url(platform: str, handle: str, identifier: str, private: bool) -> str:
    if platform == "twitter":
        return f"https://x.com/messages/{identifier}" if private else f"https://x.com/{handle}/status/{identifier}"
    if platform == "facebook":
        return f"https://www.facebook.com/messages/t/{identifier}" if private else \
            f"https://www.facebook.com/{handle}/posts/{identifier}"
    return f"https://www.instagram.com/direct/t/{identifier}" if private else \
        f"https://www.instagram.com/p/{identifier}/"


def generate_social() -> dict[str, str]:
    posts = []
    roots: dict[str, str] = {}
    for thread_no, thread in enumerate(SOCIAL, start=1):
        platform = thread["platform"]
        if "customer" in thread:
            customer = CUSTOMERS[thread["customer"]]
            handle, display, followers = customer.handle, customer.name, thread["followers"]
        else:
            handle, display, followers = thread["handle"]
        moment = parse(thread["started_at"])
        ids: dict[str, str] = {}
        for post_no, (key, who, text, options) in enumerate(thread["posts"]):
            moment += timedelta(minutes=options.get("after", 0))
            identifier = post_id(platform, thread_no, post_no)
            ids[key] = identifier
            private = bool(options.get("private"))
            if who == "A":
                author = BRAND[platform]
                row_handle, row_display, row_followers, role, agent = author[0], author[1], author[2], "agent", "sam"
            else:
                row_handle, row_display, row_followers, role, agent = handle, display, followers, "customer", None
            posts.append({
                "platform": platform, "post_id": identifier,
                "parent_id": None if key == "root" else ids[options.get("parent", "root")],
                "author_handle": row_handle, "display_name": row_display, "follower_count": row_followers,
                "is_public": not private, "author_role": role, "agent": agent, "text": text,
                "created_at": iso(moment), "url": post_url(platform, row_handle, identifier, private),
            })
        roots[thread["id"]] = ids["root"]
    write_text(OUT / "social.json", json.dumps({"posts": posts}, indent=1, ensure_ascii=False) + "\n")
    return roots


# ---------------------------------------------------------------------------------------------------- surveys

FIRST_NAMES = ["Alice", "Amelia", "Arthur", "Ava", "Callum", "Charlotte", "Darren", "Deborah", "Eilidh", "Ethan",
               "Farah", "Freddie", "Gemma", "Harry", "Isla", "Jack", "Jade", "Kieran", "Laura", "Leon", "Mia",
               "Mohammed", "Niamh", "Noah", "Olivia", "Oscar", "Poppy", "Rhys", "Ruby", "Samir", "Sarah",
               "Theo", "Tanya", "Usman", "Vicky", "William", "Yasmin", "Zoe"]
LAST_NAMES = ["Ahmed", "Bell", "Clarke", "Cooper", "Doyle", "Edwards", "Fisher", "Graham", "Hall", "Hussain",
              "Jackson", "Jones", "Kaur", "Kelly", "Marsh", "Morgan", "Nolan", "Owens", "Parry", "Quinn", "Roberts",
              "Singh", "Taylor", "Thomas", "Walker", "Watson", "White", "Williams", "Young"]
# Ofcom numbers reserved for drama (never assigned): London 020 7946 0xxx and Manchester 0161 496 0xxx.
PHONE_POOLS = ["+442079460", "+441614960"]
GOOD_COMMENTS = ["Very helpful, thank you.", "Sorted first time.", "Quick and friendly.", "Great service as always.",
                 "Agent knew exactly what to do.", "Easy, no waiting.", "Explained everything clearly.",
                 "Really patient with me.", "Fixed in minutes.", "Lovely staff in the shop."]
ACCEPTABLE_COMMENTS = ["Took a while to get through but sorted in the end.", "OK, had to repeat my details twice.",
                       "Fine, but the wait on hold was long.", "Problem fixed, but only after a second contact.",
                       "Helpful but the app still shows the wrong balance.", "Shop was busy, waited 30 minutes."]
CHANNEL_WEIGHTS = {"call": 45, "chat": 22, "email": 10, "social": 5, "shop": 18}
SURVEY_START = datetime.fromisoformat("2026-09-01T08:00:00+00:00")
SURVEY_END = datetime.fromisoformat("2026-11-19T20:00:00+00:00")  # the demo's "today" is late November 2026
ANSWERED, ACCEPTABLE, UNANSWERED = 300, 14, 1200


def generate_surveys(email_roots: dict[str, str], social_roots: dict[str, str]) -> dict[str, int]:
    rng = random.Random(f"{SEED}-surveys")
    rows: list[dict[str, Any]] = []

    def agent_shop(agent: str | None) -> str:
        return AGENT_SITES.get(agent or "", "")

    for spec in STORY_SURVEYS:
        customer = CUSTOMERS[spec["customer"]]
        interaction = social_roots.get(spec["interaction"], spec["interaction"])
        rows.append({
            "invited_at": spec["invited_at"], "responded_at": spec["responded_at"], "customer_email": customer.email,
            "customer_phone": customer.phone, "interaction_external_id": interaction, "interaction_source": "demo",
            "channel": spec["channel"], "agent": spec["agent"], "shop": agent_shop(spec["agent"]),
            "rating": spec.get("rating", ""), "score": spec.get("score", ""), "comment": spec.get("comment", ""),
        })
    surveyed = {row["interaction_external_id"] for row in rows}

    # Every other demo interaction gets an invitation; about a third answer "good".
    demo_interactions = [(c["external_id"], "call", c["agent"], c["customer"], c["started_at"]) for c in CALLS]
    demo_interactions += [(c["id"], "chat", next((m[0][2:] for m in c["messages"] if m[0].startswith("A:")), None),
                           c["customer"], c["started_at"]) for c in CHATS]
    demo_interactions += [(email_roots[t["id"]], "email", next(m[0][2:] for m in t["messages"] if m[0].startswith("A:")),
                           t["customer"], t["started_at"]) for t in EMAILS]
    demo_interactions += [(social_roots[t["id"]], "social", "sam", t["customer"], t["started_at"])
                          for t in SOCIAL if "customer" in t]
    for external_id, channel, agent, customer_key, started in demo_interactions:
        if external_id in surveyed:
            continue
        customer = CUSTOMERS[customer_key]
        invited = parse(started) + timedelta(minutes=rng.randint(20, 90))
        answered = rng.random() < 0.35
        rows.append({
            "invited_at": iso(invited), "responded_at": iso(invited + timedelta(minutes=rng.randint(10, 900)))
            if answered else "", "customer_email": customer.email, "customer_phone": customer.phone,
            "interaction_external_id": external_id, "interaction_source": "demo", "channel": channel,
            "agent": agent or "", "shop": agent_shop(agent), "rating": "good" if answered else "",
            "score": "", "comment": rng.choice(GOOD_COMMENTS) if answered and rng.random() < 0.4 else "",
        })

    # Background customers (not in the other demo files): unique names, e-mails and drama phone numbers.
    people = []
    for number in range(900):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        domain = rng.choice(["example.com", "example.org", "example.net"])
        phone = f"{PHONE_POOLS[number % 2]}{number // 2:03d}"
        people.append((f"{first.lower()}.{last.lower()}{number}@{domain}", phone))
    answered_now = sum(1 for row in rows if row["responded_at"])
    acceptable_now = sum(1 for row in rows if row["rating"] == "acceptable")
    bands = ["acceptable"] * (ACCEPTABLE - acceptable_now)
    bands += ["good"] * (ANSWERED - answered_now - len(bands))
    rng.shuffle(bands)
    unanswered_now = sum(1 for row in rows if not row["responded_at"])
    bands += [""] * (UNANSWERED - unanswered_now)
    span = (SURVEY_END - SURVEY_START).total_seconds()
    for band in bands:
        email, phone = rng.choice(people)
        channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        agent = "sam" if channel == "social" else rng.choice(["ada", "ben", "cara", "dan"])
        invited = SURVEY_START + timedelta(seconds=rng.uniform(0, span))
        invited = invited.replace(hour=rng.randint(8, 20), second=0, microsecond=0)
        row = {"invited_at": iso(invited), "responded_at": "", "customer_email": email, "customer_phone": phone,
               "interaction_external_id": "", "interaction_source": "demo", "channel": channel, "agent": agent,
               "shop": agent_shop(agent), "rating": "", "score": "", "comment": ""}
        if band:
            row["responded_at"] = iso(invited + timedelta(minutes=round(rng.lognormvariate(5.0, 1.2)) + 3))
            if rng.random() < 0.2:  # a CSAT-only answer (1-5): 4-5 good, 3 acceptable, 1-2 bad
                row["score"] = 3 if band == "acceptable" else rng.choice([4, 5, 5, 5])
            else:
                row["rating"] = band
            comments = ACCEPTABLE_COMMENTS if band == "acceptable" else GOOD_COMMENTS
            if rng.random() < (0.6 if band == "acceptable" else 0.3):
                row["comment"] = rng.choice(comments)
        rows.append(row)
    rows.sort(key=lambda row: (row["invited_at"], row["customer_email"]))
    for number, row in enumerate(rows, start=1):
        row["response_id"] = f"srv-{number:05d}"
    write_csv(OUT / "surveys.csv", SURVEY_COLUMNS, rows)
    bands_count: dict[str, int] = {}
    for row in rows:
        if row["responded_at"]:
            band = row["rating"] or ("good" if int(row["score"]) >= 4 else "acceptable" if int(row["score"]) == 3
                                     else "bad")
            bands_count[band] = bands_count.get(band, 0) + 1
    bands_count["unanswered"] = sum(1 for row in rows if not row["responded_at"])
    return bands_count


# ---------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-audio", action="store_true", help="skip espeak-ng/sox; keep the committed audio")
    parser.add_argument("--out", type=Path, default=DEMO, help="output directory (default: demo/ itself)")
    args = parser.parse_args()
    global OUT
    OUT = args.out.resolve()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.no_audio:
        missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
        if missing:
            raise SystemExit(f"make_demo.py needs {' and '.join(missing)} (see scripts/system-deps.sh)")
    began = time.perf_counter()
    print("calls:")
    calls = generate_calls(audio=not args.no_audio)
    chats = generate_chats()
    emails = generate_emails()
    social_roots = generate_social()
    bands = generate_surveys({item["thread"]: item["root"] for item in emails}, social_roots)
    size = sum(path.stat().st_size for path in OUT.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    print(f"{calls['calls']} calls ({calls['audio_seconds']:.1f} s of audio), "
          f"{len({line['conversation_id'] for line in chats})} chats ({len(chats)} messages), "
          f"{len(emails)} e-mail threads ({sum(item['messages'] for item in emails)} messages), "
          f"{len(SOCIAL)} social threads, surveys {bands}")
    print(f"{OUT} holds {size / 1e6:.2f} MB; generated in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
