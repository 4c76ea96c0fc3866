"""Survey answers that belong to the demo stories (the rest of surveys.csv is generated around them)."""

from typing import Any

# interaction: external id (call/chat ids, e-mail thread root Message-ID without <>, social root post id)
STORY_SURVEYS: list[dict[str, Any]] = [
    # ---- bad ratings (each becomes a review case) ----
    {"interaction": "call-013", "channel": "call", "customer": "mark", "agent": "dan",
     "invited_at": "2026-09-12T19:20:00+00:00", "responded_at": "2026-09-13T08:02:00+00:00", "rating": "bad",
     "comment": "Charged £60 for roaming in Spain when your website says Europe is included. The agent just "
                "said the charge is correct and wouldn't refund a penny."},
    {"interaction": "call-001", "channel": "call", "customer": "maria", "agent": "dan",
     "invited_at": "2026-10-05T09:40:00+00:00", "responded_at": "2026-10-08T21:45:00+00:00", "rating": "bad",
     "comment": "Called on Monday, chatted on Wednesday, and my broadband still drops every evening. I work "
                "from home. Everyone says someone will call me back and nobody ever does."},
    {"interaction": "call-002", "channel": "call", "customer": "james", "agent": "ada",
     "invited_at": "2026-10-12T14:30:00+00:00", "responded_at": "2026-10-12T18:11:00+00:00", "rating": "bad",
     "comment": "Passed between three people to sort out one router. Had to explain everything again every "
                "time. Why can't the first person just fix it?"},
    {"interaction": "chat-011", "channel": "chat", "customer": "george", "agent": "ben",
     "invited_at": "2026-10-19T19:00:00+00:00", "responded_at": "2026-10-20T07:35:00+00:00", "rating": "bad",
     "comment": "Waited 40 minutes in the chat queue, the agent said he couldn't remove a late fee I never "
                "owed and then just left the chat when I asked for a manager."},
    {"interaction": "email-004-1@mail.example.net", "channel": "email", "customer": "kwame", "agent": "ada",
     "invited_at": "2026-10-07T10:00:00+00:00", "responded_at": "2026-10-08T12:18:00+00:00", "rating": "bad",
     "comment": "First reply was a copy-and-paste that ignored my complaint. Took three e-mails to get a "
                "refund for a line I had already cancelled."},
    {"interaction": "call-008", "channel": "call", "customer": "rachel", "agent": "ben",
     "invited_at": "2026-11-09T18:10:00+00:00", "responded_at": "2026-11-10T09:27:00+00:00", "rating": "bad",
     "comment": "I asked to cancel because I'm moving abroad and got a sales pitch, then a £90 exit fee "
                "nobody had ever mentioned."},
    # ---- acceptable and good answers on story interactions ----
    {"interaction": "chat-010", "channel": "chat", "customer": "amira", "agent": "ada",
     "invited_at": "2026-10-16T14:00:00+00:00", "responded_at": "2026-10-16T20:05:00+00:00",
     "rating": "acceptable", "comment": "The discount helps but the price rise was never explained when I signed."},
    {"interaction": "call-004", "channel": "call", "customer": "tom", "agent": "ben",
     "invited_at": "2026-10-20T17:05:00+00:00", "responded_at": "2026-10-20T17:31:00+00:00", "rating": "good",
     "comment": "Quick and easy, no security questions faff!"},
    {"interaction": "call-012", "channel": "call", "customer": "sophie", "agent": "cara",
     "invited_at": "2026-11-18T11:40:00+00:00", "responded_at": "2026-11-19T08:15:00+00:00",
     "rating": "acceptable", "comment": "Friendly, but I still have to wait and see if the speed improves."},
    {"interaction": "call-005", "channel": "call", "customer": "grace", "agent": "cara",
     "invited_at": "2026-09-08T10:30:00+00:00", "responded_at": "2026-09-08T12:02:00+00:00", "rating": "good",
     "comment": "Cara was brilliant, free booster too!"},
    {"interaction": "call-007", "channel": "call", "customer": "helen", "agent": "ada",
     "invited_at": "2026-11-03T13:30:00+00:00", "responded_at": "2026-11-03T15:44:00+00:00", "score": 5,
     "comment": "Lovely helpful lady, bill sorted."},
    {"interaction": "s01", "channel": "social", "customer": "techguru", "agent": "sam",
     "invited_at": "2026-10-14T12:30:00+00:00", "responded_at": "2026-10-14T13:02:00+00:00",
     "rating": "acceptable", "comment": "Good updates, but the outage itself was a shambles."},
]
