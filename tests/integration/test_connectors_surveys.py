"""Survey presets: Qualtrics and SurveyMonkey exports as the tools write them (extra header rows included)."""

from sqlmodel import Session

from app.connectors.surveys import apply_preset, import_export

QUALTRICS = (
    "StartDate,EndDate,Status,RecordedDate,ResponseId,RecipientEmail,ExternalReference,agent,Q1,Q2\n"
    "Start Date,End Date,Response Type,Recorded Date,Response ID,Recipient Email,External Data Reference,agent,"
    '"How satisfied were you?",Anything else?\n'
    '"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}","{""ImportId"":""status""}",'
    '"{""ImportId"":""recordedDate""}","{""ImportId"":""_recordId""}","{""ImportId"":""recipientEmail""}",'
    '"{""ImportId"":""externalDataReference""}","{""ImportId"":""agent""}","{""ImportId"":""QID1""}",'
    '"{""ImportId"":""QID2_TEXT""}"\n'
    "2026-11-20 09:00:00,2026-11-20 09:02:00,IP Address,2026-11-20 09:02:01,R_1abc,jane@example.com,CALL-1,,5,Great\n"
    "2026-11-20 10:00:00,2026-11-20 10:02:00,IP Address,20/11/2026,R_2abc,joe@example.com,CALL-2,,2,Slow\n"
)
MONKEY = (
    'Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,Last Name,Custom Data 1,'
    '"How satisfied were you with our service?","Is there anything else you would like to tell us?"\n'
    ",,,,,,,,,Response,Open-Ended Response\n"
    "118000001,4100001,11/20/2026 09:00:00 AM,11/20/2026 09:03:00 AM,1.2.3.4,jane@example.com,Jane,C,CALL-1,4,ok\n"
    ",4100001,11/20/2026 09:00:00 AM,11/20/2026 09:03:00 AM,1.2.3.4,x@example.com,X,Y,CALL-9,3,no id\n"
)


def test_qualtrics_and_surveymonkey_presets(session: Session) -> None:
    for preset, text, bad_line in (("qualtrics", QUALTRICS, 5), ("surveymonkey", MONKEY, 4)):
        source = apply_preset(session=session, name=f"{preset}-csat", preset=preset, actor=None)
        assert apply_preset(session=session, name=f"{preset}-csat", preset=preset, actor=None).id == source.id
        first = import_export(session=session, source=source, preset=preset, text=text)
        again = import_export(session=session, source=source, preset=preset, text=text)
        assert (first.created, again.created, again.unchanged) == (1, 0, 1), first
        assert [r.line for r in first.rejected] == [bad_line] == [r.line for r in again.rejected]
