"""The scripted demo calls: who speaks, what they say, and the call metadata (used by make_demo.py).

A turn is ``(speaker, text)`` or ``(speaker, text, options)``. ``speaker`` is "A" (agent) or "C" (customer).
Options: ``say`` (what espeak-ng reads when it differs from the transcript, e.g. digits read one by one),
``hold`` (seconds of hold silence after the turn), ``overlap`` (seconds this turn starts before the previous
turn ends), ``agent`` (the username who speaks from this turn on, for transfers).
"""

from typing import Any

COMPANY = "Kestrel Telecom"

# One fixed voice per agent (espeak-ng voice+variant, pitch) so an agent sounds the same on every call.
AGENT_VOICES = {
    "ada": ("en-gb+f2", 55),
    "ben": ("en-gb+m3", 45),
    "cara": ("en-gb-x-rp+f3", 55),
    "dan": ("en-gb-x-rp+m1", 40),
}

Turn = tuple[Any, ...]

CALLS: list[dict[str, Any]] = [
    {
        # Story 1: Maria Lopez, first contact (then chat-007, then a tweet, then a bad survey).
        "external_id": "call-001", "started_at": "2026-10-05T09:14:00+00:00", "direction": "inbound",
        "queue": "Technical", "agent": "dan", "customer": "maria", "voice": ("en-us+f3", 65), "layout": "stereo",
        "turns": [
            ("A", "Good morning, Kestrel Telecom, Dan speaking. How can I help?"),
            ("C", "Hi Dan. My broadband keeps dropping every evening."),
            ("A", "Sorry to hear that. Can I take your name, postcode and date of birth?"),
            ("C", "Maria Lopez, M1 4BT, 14th of March 1988.",
             {"say": "Maria Lopez. M 1, 4 B T. Fourteenth of March, nineteen eighty eight."}),
            ("A", "Thanks Maria. Let me put you on a short hold while I run a line test.", {"hold": 2.0}),
            ("A", "There's a fault on the line, so I've booked an engineer for next Tuesday."),
            ("C", "Next Tuesday? I work from home, I need it sooner."),
            ("A", "It's the earliest slot, but I'll call you if one comes up sooner."),
            ("C", "Fine, I suppose."),
            ("A", "Thanks for calling, Maria. Goodbye."),
        ],
    },
    {
        # Story 2: transferred twice, ada (Billing) -> ben (Billing) -> cara (Technical). Bad survey.
        "external_id": "call-002", "started_at": "2026-10-12T14:02:00+00:00", "direction": "inbound",
        "queue": "Billing", "agent": "ada", "customer": "james", "voice": ("en-gb-x-gbclan+m2", 50),
        "layout": "stereo",
        "turns": [
            ("A", "Kestrel Telecom, Ada speaking. How can I help?"),
            ("C", "I was charged for a router I sent back, and the new one won't connect."),
            ("A", "I'll pass you to my colleague in returns.", {"hold": 1.5}),
            ("A", "Hello, Ben in billing. I can see the return, so I'll refund the forty pounds now.",
             {"agent": "ben"}),
            ("C", "Thanks. But the new router still won't connect."),
            ("A", "That's one for our technical team, I'll transfer you.", {"hold": 1.5}),
            ("A", "Hi, Cara in technical support. Is the light on the router flashing red?", {"agent": "cara"}),
            ("C", "Yes, red. Third person I've spoken to, by the way."),
            ("A", "Sorry about that. I've re-sent the activation, it should go green now."),
            ("C", "It's green now. Finally."),
        ],
    },
    {
        # Story 6: the customer reads a card number and a phone number out loud (PCI redaction case).
        "external_id": "call-003", "started_at": "2026-09-17T11:26:00+00:00", "direction": "inbound",
        "queue": "Billing", "agent": "ada", "customer": "priya", "voice": ("en-gb-x-rp+f2", 60), "layout": "stereo",
        "turns": [
            ("A", "Good morning, Kestrel Telecom, Ada speaking."),
            ("C", "Hi, I'd like to pay my overdue bill please."),
            ("A", "Of course. Can I have your name, postcode and date of birth?"),
            ("C", "Priya Shah, LS6 2QT, 2nd of June 1991.",
             {"say": "Priya Shah. L S 6, 2 Q T. Second of June, nineteen ninety one."}),
            ("A", "Thanks Priya. What card would you like to use?"),
            ("C", "It's 4111 1111 1111 1111, expiry 08 28.",
             {"say": '<speak>It\'s forty one eleven <break time="400ms"/> eleven eleven <break time="400ms"/> '
                     'eleven eleven <break time="400ms"/> eleven eleven. Expiry oh eight, twenty eight.</speak>'}),
            ("A", "Thank you, that's gone through. Is 07700 900456 still your best number?",
             {"say": "Thank you, that's gone through. Is oh seven seven oh oh, nine oh oh, four five six, "
                     "still your best number?"}),
            ("C", "Yes it is."),
            ("A", "Great. Anything else today? No? Have a lovely day."),
        ],
    },
    {
        # Story 6: the agent SKIPS identity verification and changes the bank details anyway.
        "external_id": "call-004", "started_at": "2026-10-20T16:41:00+00:00", "direction": "inbound",
        "queue": "Billing", "agent": "ben", "customer": "tom", "voice": ("en-us+m2", 45), "layout": "stereo",
        "turns": [
            ("A", "Kestrel Telecom, Ben speaking, how can I help?"),
            ("C", "Hi, I need to change the bank account for my direct debit. I'm in a hurry."),
            ("A", "No problem, we'll skip the security questions then. What's the new sort code?"),
            ("C", "Twenty, forty, sixty. Account number one two three four five six seven eight."),
            ("A", "Let me put you on a short hold while I update that.", {"hold": 3.0}),
            ("A", "All done, the next payment will come from the new account."),
            ("C", "Brilliant, thanks."),
            ("A", "Anything else? No? Thanks for calling Kestrel. Bye now."),
        ],
    },
    {
        "external_id": "call-005", "started_at": "2026-09-08T10:05:00+00:00", "direction": "inbound",
        "queue": "Technical", "agent": "cara", "customer": "grace", "voice": ("en-gb-x-gbcwmd+f3", 60),
        "layout": "stereo",
        "turns": [
            ("A", "Hello, Kestrel Telecom technical support, Cara speaking."),
            ("C", "Hi, my Wi-Fi is really slow upstairs."),
            ("A", "I can help. Can I confirm your name, postcode and date of birth?"),
            ("C", "Grace Okafor, B15 3TN, 9th of November 1975.",
             {"say": "Grace Okafor. B 15, 3 T N. Ninth of November, nineteen seventy five."}),
            ("A", "Thank you Grace. Where is your router at the moment?"),
            ("C", "In a cupboard under the stairs.", {"overlap": 0.8}),
            ("A", "That will be it. Try it on a shelf in the hallway, and I'll send you a free booster."),
            ("C", "Oh, that's great, thank you.", {"overlap": 0.5}),
            ("A", "It'll arrive in two days. Anything else? Then thanks for calling, bye."),
        ],
    },
    {
        # Same area outage as @techguru and @sally_k on social (Manchester, 2026-10-14).
        "external_id": "call-006", "started_at": "2026-10-14T08:22:00+00:00", "direction": "inbound",
        "queue": "Technical", "agent": "dan", "customer": "oliver", "voice": ("en-us+m1", 55), "layout": "stereo",
        "turns": [
            ("A", "Good morning, Kestrel Telecom, Dan speaking."),
            ("C", "Hi, my broadband's completely down this morning, no lights at all."),
            ("A", "Can I take your name, postcode and date of birth please?"),
            ("C", "Oliver Grant, M4 5JD, 30th of July 1983.",
             {"say": "Oliver Grant. M 4, 5 J D. Thirtieth of July, nineteen eighty three."}),
            ("A", "Thanks Oliver. Let me put you on a short hold to check the area.", {"hold": 3.0}),
            ("A", "There's an outage in central Manchester. Engineers are on site, expected fix by midday."),
            ("C", "OK, will I get money back for the day?"),
            ("A", "Yes, a credit is applied automatically. Anything else? Then thanks for calling."),
        ],
    },
    {
        "external_id": "call-007", "started_at": "2026-11-03T13:10:00+00:00", "direction": "inbound",
        "queue": "Billing", "agent": "ada", "customer": "helen", "voice": ("en-us+f3", 55), "layout": "stereo",
        "turns": [
            ("A", "Kestrel Telecom, Ada speaking. How can I help?"),
            ("C", "Hello, my bill went up by eight pounds this month and I don't know why."),
            ("A", "Let me look. Can I have your name, postcode and date of birth first?"),
            ("C", "Helen Murray, EH3 9AB, 22nd of January 1969.",
             {"say": "Helen Murray. E H 3, 9 A B. Twenty second of January, nineteen sixty nine."}),
            ("A", "Thank you. Your loyalty discount ended last month. I can add a new one for twelve months."),
            ("C", "Oh lovely, yes please."),
            ("A", "Done, your bill goes back to thirty two pounds. Anything else?"),
            ("C", "No, that's perfect, thank you Ada."),
        ],
    },
    {
        # Bad survey (November): asked to cancel, pushed into a new contract.
        "external_id": "call-008", "started_at": "2026-11-09T17:48:00+00:00", "direction": "inbound",
        "queue": "Billing", "agent": "ben", "customer": "rachel", "voice": ("en-us+f4", 75), "layout": "stereo",
        "turns": [
            ("A", "Kestrel Telecom, Ben speaking."),
            ("C", "Hi, I want to cancel my mobile contract. I'm moving abroad."),
            ("A", "Can I take your name, postcode and date of birth?"),
            ("C", "Rachel Green, BS1 6QF, 5th of May 1994.",
             {"say": "Rachel Green. B S 1, 6 Q F. Fifth of May, nineteen ninety four."}),
            ("A", "Thanks Rachel. Before you go, I can offer you half price for six months."),
            ("C", "No thanks, I just want to cancel.", {"overlap": 0.6}),
            ("A", "It's a really good deal. Let me put you on a short hold.", {"hold": 3.0}),
            ("A", "I've set up the cancellation, there's an early exit fee of ninety pounds."),
            ("C", "Nobody told me about a fee. This is ridiculous."),
        ],
    },
    {
        "external_id": "call-009", "started_at": "2026-09-23T12:30:00+00:00", "direction": "inbound",
        "queue": "Sales", "agent": "cara", "customer": "ahmed", "voice": ("en-gb+m5", 45), "layout": "stereo",
        "turns": [
            ("A", "Hello, Kestrel Telecom, Cara speaking. How can I help?"),
            ("C", "Hi, I'm moving house next month and want to take my broadband with me."),
            ("A", "Lovely. Can I confirm your name, postcode and date of birth?"),
            ("C", "Ahmed Khan, CF10 1EP, 17th of August 1980.",
             {"say": "Ahmed Khan. C F 10, 1 E P. Seventeenth of August, nineteen eighty."}),
            ("A", "Thank you Ahmed. What's the new postcode and moving date?"),
            ("C", "CF11 9LJ, on the 20th of October.", {"say": "C F 11, 9 L J. On the twentieth of October."}),
            ("A", "Full fibre is available there, and the move is booked for the twentieth."),
            ("C", "Great, thanks Cara."),
        ],
    },
    {
        "external_id": "call-010", "started_at": "2026-10-22T15:05:00+00:00", "direction": "outbound",
        "queue": "Technical", "agent": "dan", "customer": "lucy", "voice": ("en-gb-x-gbclan+f1", 65),
        "layout": "stereo",
        "turns": [
            ("A", "Hello, it's Dan from Kestrel Telecom. Is that Lucy Evans?"),
            ("C", "Yes, speaking."),
            ("A", "Before we go on, can you confirm your postcode and date of birth?"),
            ("C", "NG7 2RD, 11th of December 1990.",
             {"say": "N G 7, 2 R D. Eleventh of December, nineteen ninety."}),
            ("A", "Thanks. I'm calling to check the engineer visit fixed your phone line."),
            ("C", "It did, everything's working now."),
            ("A", "Great news. I'll close the fault then. Have a good afternoon."),
        ],
    },
    {
        "external_id": "call-011", "started_at": "2026-11-16T09:50:00+00:00", "direction": "inbound",
        "queue": "Technical", "agent": "ada", "customer": "daniel", "voice": ("en-us+m3", 50), "layout": "stereo",
        "turns": [
            ("A", "Good morning, Kestrel Telecom, Ada speaking."),
            ("C", "Hi, I've lost my phone and need to block the SIM."),
            ("A", "I'm sorry. Can I take your name, postcode and date of birth?"),
            ("C", "Daniel Moore, G12 8QQ, 3rd of April 1986.",
             {"say": "Daniel Moore. G 12, 8 Q Q. Third of April, nineteen eighty six."}),
            ("A", "Thank you Daniel. Let me put you on a short hold while I block it.", {"hold": 3.0}),
            ("A", "The SIM is blocked, and a replacement will arrive tomorrow."),
            ("C", "Thanks, that's a relief."),
            ("A", "You're welcome. Thanks for calling Kestrel, goodbye."),
        ],
    },
    {
        "external_id": "call-012", "started_at": "2026-11-18T11:15:00+00:00", "direction": "inbound",
        "queue": "Technical", "agent": "cara", "customer": "sophie", "voice": ("en-gb+f2", 70),
        "layout": "stereo",
        "turns": [
            ("A", "Kestrel Telecom technical support, Cara speaking."),
            ("C", "Hi, my broadband is much slower than what I'm paying for."),
            ("A", "Let's check. Can I have your name, postcode and date of birth?"),
            ("C", "Sophie Turner, OX4 1AW, 28th of February 1997.",
             {"say": "Sophie Turner. O X 4, 1 A W. Twenty eighth of February, nineteen ninety seven."}),
            ("A", "Thanks Sophie. I'll put you on a short hold for a speed test.", {"hold": 3.0}),
            ("A", "You're getting thirty megabits on a seventy package, so I'm resetting your line profile."),
            ("C", "How long does that take?", {"overlap": 0.7}),
            ("A", "About an hour. If it's not better tomorrow, call us and we'll send an engineer."),
        ],
    },
    {
        # Mono (mixed) recordings from the old phone system. Bad survey in September (roaming charges).
        "external_id": "call-013", "started_at": "2026-09-12T19:02:00+00:00", "direction": "inbound",
        "queue": "Billing", "agent": "dan", "customer": "mark", "voice": ("en-us+m1", 40), "layout": "mono",
        "turns": [
            ("A", "Kestrel Telecom, Dan speaking."),
            ("C", "I've been charged sixty pounds for roaming in Spain. Your website says Europe is included."),
            ("A", "Can I take your name, postcode and date of birth?"),
            ("C", "Mark Davies, CB2 1TN, 19th of September 1972.",
             {"say": "Mark Davies. C B 2, 1 T N. Nineteenth of September, nineteen seventy two."}),
            ("A", "Thanks Mark. Your old plan doesn't include roaming, so the charge is correct, I'm afraid."),
            ("C", "Nobody told me that. I want it refunded."),
            ("A", "I can't refund it, but I can move you to a plan with roaming from next month."),
        ],
    },
    {
        "external_id": "call-014", "started_at": "2026-10-28T10:40:00+00:00", "direction": "inbound",
        "queue": "Sales", "agent": "ben", "customer": "emma", "voice": ("en-gb+f4", 60), "layout": "mono",
        "turns": [
            ("A", "Hello, Kestrel Telecom, Ben speaking."),
            ("C", "Hi, I'd like to order broadband for my new flat."),
            ("A", "Happy to help. What's the postcode?"),
            ("C", "It's EH6 7BB.", {"say": "It's E H 6, 7 B B."}),
            ("A", "Full fibre is available, five hundred megabits for thirty five pounds a month."),
            ("C", "Perfect, let's do it."),
            ("A", "Great. Your router arrives Friday and you'll be live next Tuesday."),
        ],
    },
    {
        "external_id": "call-015", "started_at": "2026-11-19T14:25:00+00:00", "direction": "inbound",
        "queue": "Technical", "agent": "cara", "customer": "peter", "voice": ("en-gb+m5", 35),
        "layout": "mono",
        "turns": [
            ("A", "Kestrel Telecom technical support, Cara speaking."),
            ("C", "My Wi-Fi drops out every few minutes since yesterday."),
            ("A", "Sorry about that. Can I confirm your name, postcode and date of birth?"),
            ("C", "Peter Walsh, L8 0SA, 1st of October 1958.",
             {"say": "Peter Walsh. L 8, 0 S A. First of October, nineteen fifty eight."}),
            ("A", "Thank you Peter. Please restart the router while I stay on the line."),
            ("C", "OK, it's restarting now. Right, it's back."),
            ("A", "Lovely. Call back if it drops again. Thanks for calling."),
        ],
    },
]
