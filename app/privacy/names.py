"""People's names: after a cue ("my name is", "Mr"), known first names in lowercase transcripts, the answer to
"can I take your name?", Chinese names after a cue, and the language model's PERSON and place entities."""

import re

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc

from app.privacy.spans import LOCATION, PERSON, PiiSpan
from app.privacy.spoken import DIGIT_WORDS

TITLES = r"(?:mr|mrs|ms|miss|mister|dr|doctor|sir|madam)\.?"
TITLE_ONLY = re.compile(TITLES, re.IGNORECASE)
NAME_CUE = re.compile(
    rf"\b(?:(?P<strong>my\s+name\s+is|my\s+name's|name's|full\s+name\s+is|names\s+is|the\s+name\s+is|"
    rf"speaking\s+(?:with|to)|talking\s+to|{TITLES}|account\s+holder\s+is|in\s+the\s+name\s+of)"
    rf"|(?P<weak>this\s+is|it's|i'm|i\s+am|call\s+me|thank\s+you|regards,?|thanks,?|cheers,?|dear|hi|hello|hey))"
    rf"[ \t]+",
    re.IGNORECASE,
)
NAME_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
NOT_NAME = set(STOP_WORDS) | {
    "calling", "ringing", "speaking", "sorry", "just", "regarding", "about", "okay", "ok", "yes", "yeah", "no",
    "thanks", "thank", "hello", "hi", "please", "customer", "service", "support", "team", "the", "a", "an",
    "there", "here", "good", "fine", "great", "well", "not", "so", "very", "really", "still", "trying",
    "sir", "madam", "agent", "bank", "card", "account", "number", "phone", "everyone", "all", "guys",
    "morning", "afternoon", "evening", "again", "for", "you", "your", "and", "but", "how", "what", "that",
    "mr", "mrs", "ms", "miss", "mister", "dr", "doctor",
    "um", "uh", "er", "erm", "ah", "like", "i'm", "im", "ive", "i've", "id", "dont", "don't", "cant", "can't", "want", "wanted", "need", "got",
    "happy", "unhappy", "angry", "upset", "frustrated", "waiting", "sure", "correct", "right", "done",
}
# Common first names, for lowercase transcripts where NER sees no capital letter. Ambiguous words
# (will, mark, grace, april, bill...) are left out: they only count after a strong cue like "my name is".
_FIRST_NAMES_TEXT = """
aaron adam adrian ahmed aisha alan albert alex alexander alice alison amanda amelia amy andrea andrew angela
anna anne anthony antonio ashley barbara ben benjamin beth brian bruce carl carlos carol caroline catherine
charles charlotte chloe chris christine christopher claire colin craig daniel darren david deborah dennis
diana donna dorothy edward elena elizabeth ellie emily emma eric fatima fiona francesca gary george gillian
graham hannah harry heather helen ian isabella jacob james jane janet jason jennifer jessica joanne john
jonathan jose joseph joshua julia julie karen kate katherine keith kelly kenneth kevin laura lauren linda lisa
lucy luis lynn maria marie martin mary matthew megan melissa michael michelle mohammed muhammad nancy natalie
neil nicholas nicola olivia oliver patricia paul peter priya rachel raj rebecca richard robert ruth ryan
samantha sandra sarah scott sharon simon sophie stephen steven stuart susan thomas timothy tom tony tracy
victoria william yusuf zoe priti anil deepak sanjay wei li chen jamal omar layla nadia sofia lucia marco
giulia pierre hans ingrid olga ivan dmitri kwame amara chidi ngozi
"""
FIRST_NAMES = frozenset(_FIRST_NAMES_TEXT.split())


ANSWER_LEAD = re.compile(
    r"^\s*(?:(?:yes|yeah|yep|sure|ok|okay|um|uh|er|erm|so|it's|its|it\s+is|that's|that\s+is|my\s+name\s+is|"
    r"my\s+name's|this\s+is|i'm|i\s+am|the\s+name's|mine's|mine\s+is)\b[\s,.-]*)*", re.IGNORECASE)


def answered_name_spans(text: str) -> list[PiiSpan]:
    """The name given in reply to "can I take your name?": the first words of the answer."""
    position = ANSWER_LEAD.match(text)
    cursor = position.end() if position else 0
    cursor += len(text[cursor:]) - len(text[cursor:].lstrip("我叫係是姓:：,， "))  # "我叫陳大文" / "姓陳"
    chinese = cjk_name_at(text, cursor, surname_only=True)
    if chinese is not None:
        return [chinese]
    names: list[re.Match[str]] = []
    while len(names) < 4:
        word = NAME_WORD.match(text, cursor)
        if word is None or word.group(0).lower() in NOT_NAME or word.group(0).lower() in DIGIT_WORDS:
            break
        if not (word.group(0)[0].isupper() or text.islower()):
            break
        names.append(word)
        gap = re.match(r"[ \t]+", text[word.end():])
        if gap is None:
            break
        cursor = word.end() + gap.end()
    if not names:
        return []
    return [PiiSpan(names[0].start(), names[-1].end(), PERSON, text[names[0].start():names[-1].end()], 0.7,
                    "context")]


def name_spans(text: str) -> list[PiiSpan]:
    spans = []
    for cue in NAME_CUE.finditer(text):
        strong = cue.group("strong") is not None
        names: list[re.Match[str]] = []
        position = cue.end()
        for _ in range(3 if strong else 2):
            word = NAME_WORD.match(text, position)
            if word is None or word.group(0).lower() in NOT_NAME or word.group(0).lower() in DIGIT_WORDS:
                break
            value = word.group(0)
            known = value.lower() in FIRST_NAMES
            capitalised = value[0].isupper() and not value.isupper()
            if not names and not (known or capitalised or strong):
                break
            if names and not (known or capitalised or (strong and not text[cue.start():cue.end()][0].isupper())):
                break
            names.append(word)
            gap = re.match(r"[ \t]+", text[word.end():])
            if gap is None:
                break
            position = word.end() + gap.end()
        if names:
            start, end = names[0].start(), names[-1].end()
            spans.append(PiiSpan(start, end, PERSON, text[start:end], 0.75 if strong else 0.6, "regex"))
    for word in NAME_WORD.finditer(text):
        if word.group(0).lower() in FIRST_NAMES:
            spans.append(PiiSpan(word.start(), word.end(), PERSON, word.group(0), 0.55, "regex"))
    return spans


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# Common Hong Kong and mainland surnames (Traditional and Simplified): a Chinese name is a surname and one or
# two more characters; only looked for after a cue ("我叫", "我姓", "my name is") or as the answer to "your name?"
CJK_SURNAMES = frozenset(
    "陳陈李張张黃黄何林吳吴劉刘梁王鄭郑楊杨馮冯謝谢郭麥麦曾羅罗蔡鄧邓許许葉叶蕭萧袁譚谭盧卢余朱潘彭姚鍾钟蘇苏"
    "周徐胡莫杜馬马趙赵孫孙高關关鄺邝區区冼簡简文方施石丁范雷唐溫温江歐欧伍韋韦")
CJK_NAME_CUE = re.compile(r"(?:我叫|我係|我是|我姓|姓名|名字係|名字是|名字叫|叫我|my\s+name\s+is|my\s+name's|i'm|i\s+am|"
                          r"this\s+is|speaking\s+(?:with|to)|mr\.?|mrs\.?|ms\.?|miss)[\s:：,，]*", re.IGNORECASE)
CJK_NAME = re.compile(r"[\u3400-\u9fff]{1,3}")


def cjk_name_at(text: str, position: int, *, surname_only: bool = False) -> PiiSpan | None:
    """A Chinese name starting at `position`: a known surname and up to two more characters."""
    match = CJK_NAME.match(text, position)
    if match is None or match.group(0)[0] not in CJK_SURNAMES:
        return None
    if len(match.group(0)) == 1 and not surname_only:
        return None
    return PiiSpan(match.start(), match.end(), PERSON, match.group(0), 0.7, "regex")


def cjk_name_spans(text: str) -> list[PiiSpan]:
    if not CJK.search(text):
        return []
    spans = []
    for cue in CJK_NAME_CUE.finditer(text):
        found = cjk_name_at(text, cue.end(), surname_only=cue.group(0).startswith("我姓"))
        if found is not None:
            spans.append(found)
    return spans


FIELD_LABEL_AFTER = re.compile(r"(?:[ \t]+[a-z]+){0,2}[ \t]*:")


def _field_label(text: str, start: int, end: int) -> bool:
    """A form field's label the model took for a name: "Email: ...", "Daytime phone: ..." at a line start.
    Speaker labels of a pasted transcript ("Maria: hi", "Grace Okafor: ...") stay names."""
    word = text[start:end]
    if " " in word or word.lower() in FIRST_NAMES:
        return False
    at_line_start = not text[:start].strip() or text[:start].rstrip(" \t").endswith(("\n", "\r"))
    return at_line_start and FIELD_LABEL_AFTER.match(text, end) is not None


def ner_spans(doc: Doc) -> list[PiiSpan]:
    spans = []
    for ent in doc.ents:
        if CJK.search(ent.text):  # the English model cannot read Chinese: its entities there are noise
            continue
        if ent.label_ == "PERSON" and any(c.isalpha() for c in ent.text) and ent.text.lower() not in NOT_NAME \
                and not TITLE_ONLY.fullmatch(ent.text) and not any(c.isdigit() for c in ent.text) \
                and not _field_label(doc.text, ent.start_char, ent.end_char):
            spans.append(PiiSpan(ent.start_char, ent.end_char, PERSON, ent.text, 0.8, "ner"))
        elif ent.label_ in ("GPE", "LOC", "FAC"):
            spans.append(PiiSpan(ent.start_char, ent.end_char, LOCATION, ent.text, 0.5, "ner"))
    return spans
