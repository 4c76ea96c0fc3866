"""Scripted demo chats, e-mail threads and social threads (used by make_demo.py).

Chats: messages are ``(who, text)`` with who "C" (customer), "B" (bot), "S" (system) or "A:<username>" (agent);
a system "<Name> joined the chat" line is added when an agent first speaks.
E-mails: ``(sender, body)`` with sender "C" or "A:<username>"; the body is plain text unless the message says
``html`` or ``alternative``; ``attach_pdf`` adds a small PDF.
Social: ``(key, who, text, options)``; who is "C" (the thread's customer), "A" (sam on the brand account) or
another customer key; options: ``parent`` (key of the post replied to, default the root), ``after`` (minutes
after the previous post), ``private`` (a direct message).
"""

from typing import Any

CHATS: list[dict[str, Any]] = [
    {"id": "chat-001", "started_at": "2026-09-03T10:12:00+00:00", "queue": "Billing", "customer": "nina",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "I've been charged twice for September"),
         ("B", "I'm sorry to hear that. I'll connect you to someone in our billing team."),
         ("A:ada", "Hi Nina, I'm Ada from billing. I can see two payments of £32 on the 1st of September."),
         ("C", "Yes that's it. Can I get one back?"),
         ("A:ada", "Of course. I've refunded the duplicate payment, it'll be back in your account in 3 to 5 days."),
         ("C", "Great, thanks Ada!"),
         ("A:ada", "You're welcome. Anything else I can help with?"),
         ("C", "No that's all"),
     ]},
    {"id": "chat-002", "started_at": "2026-09-09T19:40:00+00:00", "queue": "Technical", "customer": "owen",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "new router won't connect"),
         ("B", "Have you tried switching it off for 30 seconds and back on again?"),
         ("C", "yes twice"),
         ("B", "Thanks. Let me find a technical adviser for you."),
         ("A:dan", "Hi Owen, Dan here. What colour is the light on the front of the router?"),
         ("C", "orange"),
         ("A:dan", "Orange means it can't see the line. Is the grey cable in the socket marked DSL?"),
         ("C", "ah it was in the wrong socket. It's white now!"),
         ("A:dan", "Perfect, you're online. Enjoy your new router."),
     ]},
    {"id": "chat-003", "started_at": "2026-09-15T12:05:00+00:00", "queue": "Sales", "customer": "zara",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "Can I upgrade to full fibre?"),
         ("A:ben", "Hi Zara, Ben from sales. Full fibre is available at your address: 500 Mb for £35 a month."),
         ("C", "Is there a new contract?"),
         ("A:ben", "Yes, 24 months. There's no installation fee this month."),
         ("C", "OK, go ahead please"),
         ("A:ben", "Done! An engineer will install it on the 22nd of September between 8am and 1pm."),
     ]},
    {"id": "chat-004", "started_at": "2026-09-21T08:31:00+00:00", "queue": "Account", "customer": "ben_t",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "forgot my password for My Kestrel"),
         ("B", "No problem. I've sent a reset link to the e-mail address on your account. It's valid for 1 hour."),
         ("C", "got it, thanks"),
         ("B", "Glad I could help. Have a good day!"),
     ]},
    {"id": "chat-005", "started_at": "2026-09-27T16:18:00+00:00", "queue": "Technical", "customer": "fiona",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "My mobile data doesn't work in France"),
         ("A:cara", "Hi Fiona, Cara here. Roaming is switched off on your account, shall I switch it on?"),
         ("C", "Yes please! Is it extra?"),
         ("A:cara", "Europe is included in your plan, so no extra charge. It's on now, restart your phone."),
         ("C", "Working, merci!"),
     ]},
    {"id": "chat-006", "started_at": "2026-10-02T11:44:00+00:00", "queue": "Billing", "customer": "kwame",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "change direct debit date"),
         ("A:ada", "Hi Kwame, I'm Ada. Before I change anything, can you confirm your postcode and date of birth?"),
         ("C", "SE1 7PB, 12/03/1985"),
         ("A:ada", "Thank you, that matches. Which day of the month would you like?"),
         ("C", "the 28th"),
         ("A:ada", "All set, your payments will now be taken on the 28th."),
     ]},
    {"id": "chat-007", "started_at": "2026-10-07T20:15:00+00:00", "queue": "Technical", "customer": "maria",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "My broadband is dropping AGAIN tonight. I called on Monday about this."),
         ("B", "I'm sorry. I'll connect you to a technical adviser."),
         ("A:cara", "Hi Maria, I'm Cara. I can see your call with Dan on Monday and the engineer booked for "
                    "next Tuesday."),
         ("C", "I can't wait until next Tuesday, I work from home. Can't someone come tomorrow?"),
         ("A:cara", "I've checked and there are no earlier slots, I'm sorry. I've asked the engineering team to "
                    "call you if one frees up."),
         ("C", "That's what Dan said. Nobody has called."),
         ("A:cara", "I understand how frustrating this is. I've added a 4G backup dongle to your account, it "
                    "will arrive tomorrow."),
         ("C", "Fine. This is the third time I'm explaining this."),
     ]},
    {"id": "chat-008", "started_at": "2026-10-09T09:02:00+00:00", "queue": "Sales", "customer": "irene",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "I'm moving house on 1 November"),
         ("A:ben", "Hi Irene, Ben here. Congratulations! What's the new postcode?"),
         ("C", "BS8 4JH"),
         ("A:ben", "Full fibre is there too. I've booked your move for the 1st of November at no cost."),
         ("C", "Brilliant, thank you"),
     ]},
    {"id": "chat-009", "started_at": "2026-10-14T08:10:00+00:00", "queue": "Technical", "customer": "luke",
     "messages": [
         ("B", "There is a known broadband outage in central Manchester (M1-M4). Engineers are on site."),
         ("C", "Any idea how long? I'm in M3"),
         ("A:dan", "Hi Luke, Dan here. The estimate is midday. You'll get a credit for the day automatically."),
         ("C", "ok thanks"),
     ]},
    {"id": "chat-010", "started_at": "2026-10-16T13:27:00+00:00", "queue": "Billing", "customer": "amira",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "Why is my price going up again? I got a letter"),
         ("A:ada", "Hi Amira, I'm Ada. The yearly price change in your contract is 3.9% from April."),
         ("C", "Nobody explained that when I signed up"),
         ("A:ada", "I'm sorry it wasn't clear. It's in section 4 of the contract summary. I can't remove it, "
                   "but I can add a £2 a month loyalty discount."),
         ("C", "I suppose that helps a bit"),
     ]},
    {"id": "chat-011", "started_at": "2026-10-19T18:05:00+00:00", "queue": "Billing", "customer": "george",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "I was charged a late payment fee but I paid on time"),
         ("B", "You can see your payments in the My Kestrel app under Billing."),
         ("C", "I know, I want to speak to a person"),
         ("B", "All our advisers are busy. You are number 14 in the queue."),
         ("S", "Waiting time is longer than usual."),
         ("C", "It's been 25 minutes!", {"after": 1500}),
         ("A:ben", "Hi, Ben here. What's the problem?", {"after": 900}),
         ("C", "A £10 late fee on my bill. I paid on the due date, I have the bank statement."),
         ("A:ben", "The fee is applied automatically by the system. I can't remove it."),
         ("C", "So I waited 40 minutes for that? Can I talk to a manager?"),
         ("S", "Ben left the chat."),
     ]},
    {"id": "chat-012", "started_at": "2026-10-23T10:50:00+00:00", "queue": "Technical", "customer": "hannah",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "new SIM says no service"),
         ("A:cara", "Hi Hannah, I'm Cara. I can see the SIM arrived yesterday. I'll activate it now."),
         ("C", "thanks"),
         ("A:cara", "Done. Restart your phone and you should see Kestrel at the top of the screen."),
         ("C", "yes it works!"),
     ]},
    {"id": "chat-013", "started_at": "2026-10-27T15:33:00+00:00", "queue": "Billing", "customer": "victor",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "I didn't get the credit for the outage on the 14th"),
         ("A:ada", "Hi Victor, I'm Ada. You're right, it was missed. I've added a £5 credit to your next bill."),
         ("C", "Cheers"),
     ]},
    {"id": "chat-014", "started_at": "2026-10-30T19:12:00+00:00", "queue": "Technical", "customer": "julia",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "How do I set up parental controls?"),
         ("A:dan", "Hi Julia, Dan here. In the My Kestrel app go to Broadband, then Safe Browsing, and switch "
                   "on the Kids profile."),
         ("C", "Can I set a bedtime for the kids' tablets?"),
         ("A:dan", "Yes, under Schedules you can pause devices from 9pm."),
         ("C", "Perfect, thanks Dan"),
     ]},
    {"id": "chat-015", "started_at": "2026-11-04T12:20:00+00:00", "queue": "Billing", "customer": "sean",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "when does my contract end?"),
         ("A:ben", "Hi Sean, Ben here. Your broadband contract ends on the 14th of January 2027."),
         ("C", "and then the price goes up?"),
         ("A:ben", "It moves to the standard price of £38. I can offer a new 12 month deal at £30 now."),
         ("C", "I'll think about it, thanks"),
     ]},
    {"id": "chat-016", "started_at": "2026-11-08T17:45:00+00:00", "queue": "Billing", "customer": "megan",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "My broadband is really slow since the weekend"),
         ("A:ada", "Hi Megan, I'm Ada from billing. This is one for our technical team, I'll pass you over."),
         ("S", "Chat transferred to Technical."),
         ("A:cara", "Hi Megan, Cara here. I've run a line test and reset your connection. Can you try now?"),
         ("C", "Much better, 68 Mb"),
         ("A:cara", "Great. If it slows again just message us."),
     ]},
    {"id": "chat-017", "started_at": "2026-11-12T14:08:00+00:00", "queue": "Billing", "customer": "adam",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "cancel sports add-on"),
         ("A:ada", "Hi Adam, I'm Ada. I've removed the sports add-on from your next bill. Anything else?"),
         ("C", "no thanks"),
     ]},
    {"id": "chat-018", "started_at": "2026-11-17T07:58:00+00:00", "queue": "Technical", "customer": "chloe",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "my phone was stolen last night"),
         ("A:dan", "I'm sorry Chloe, Dan here. To protect your account, can you confirm your postcode and "
                   "date of birth?"),
         ("C", "N1 9GU, 4 July 1999"),
         ("A:dan", "Thank you. I've blocked the SIM and the handset. A new SIM will arrive tomorrow."),
         ("C", "thank you so much"),
     ]},
    {"id": "chat-019", "started_at": "2026-11-19T11:30:00+00:00", "queue": "Sales", "customer": "nina",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "I want to bring my number from another network"),
         ("A:ben", "Hi Nina, Ben here. Text PAC to 65075 from your old phone and send me the code you get."),
         ("C", "PAC123456"),
         ("A:ben", "Thanks! Your number will move over on Monday."),
     ]},
    {"id": "chat-020", "started_at": "2026-11-20T21:03:00+00:00", "queue": "Technical", "customer": "owen",
     "messages": [
         ("B", "Hi, I'm Kes, Kestrel's virtual assistant. What can I help you with today?"),
         ("C", "TV box stuck on loading"),
         ("B", "Please unplug the TV box for 30 seconds and plug it back in."),
         ("B", "All our advisers are busy. You are number 6 in the queue."),
         ("S", "The customer left the chat."),
     ]},
]

EMAILS: list[dict[str, Any]] = [
    {"id": "email-001", "started_at": "2026-09-04T08:15:00+00:00", "customer": "nina",
     "subject": "Copy of my August bill", "messages": [
         ("C", "Hello,\n\nCould you send me a copy of my August bill? I need it for my expenses claim.\n\n"
               "Thanks,\nNina Patel"),
         ("A:ada", "Dear Nina,\n\nThank you for your e-mail. Please find your August bill attached.\n\n"
                   "Kind regards,\nAda\nKestrel Telecom Customer Support", {"attach_pdf": True}),
     ]},
    {"id": "email-002", "started_at": "2026-09-10T18:22:00+00:00", "customer": "tom",
     "subject": "Engineer didn't turn up", "messages": [
         ("C", "<p>Hi,</p><p>I took a day off work for the engineer visit today (8am&ndash;1pm) and "
               "<b>nobody came</b>. Nobody called either.</p><p>What compensation do I get?</p><p>Tom Baker</p>",
          {"html": True}),
         ("A:dan", "Dear Tom,\n\nI'm very sorry the engineer did not arrive. The visit was cancelled because of a "
                   "staff shortage and we failed to tell you. I have rebooked it for Saturday 12 September, "
                   "8am-1pm, and added a £30 missed appointment credit to your account.\n\nRegards,\nDan\n"
                   "Kestrel Telecom Technical Support"),
         ("C", "Thanks Dan, Saturday works.\n\nTom"),
     ]},
    {"id": "email-003", "started_at": "2026-09-25T09:40:00+00:00", "customer": "irene",
     "subject": "Moving home in November", "messages": [
         ("C", "Hello,\n\nI'm moving to Bristol on 1 November. Can I take my broadband with me?\n\nIrene Novak"),
         ("A:ben", "Dear Irene,\n\nYes, you can. Reply with your new postcode, or use the chat and we'll book it "
                   "for you.\n\nBest wishes,\nBen\nKestrel Telecom"),
     ]},
    {"id": "email-004", "started_at": "2026-10-06T07:55:00+00:00", "customer": "kwame",
     "subject": "Formal complaint: still charged after cancelling", "messages": [
         ("C", "To whom it may concern,\n\nI cancelled my landline on 1 September (reference CAN-20931) and I "
               "have been charged £18 again this month. Please refund it and confirm the line is closed.\n\n"
               "Kwame Mensah"),
         ("A:ada", "Dear Customer,\n\nThank you for contacting Kestrel Telecom. We aim to respond to all "
                   "queries within 5 working days. You can manage your account at any time in the My Kestrel "
                   "app.\n\nKind regards,\nAda\nKestrel Telecom Customer Support"),
         ("C", "That doesn't answer my question at all. I was charged after cancelling. Please read my e-mail "
               "and refund the £18.\n\nKwame"),
         ("A:ada", "Dear Kwame,\n\nI have looked into this. The cancellation was not completed because of a "
                   "system error. I have now closed the line and raised a refund request of £18, which can take "
                   "up to 10 working days.\n\nKind regards,\nAda"),
     ]},
    {"id": "email-005", "started_at": "2026-10-15T12:10:00+00:00", "customer": "oliver",
     "subject": "Compensation for yesterday's outage", "messages": [
         ("C", "Hi,\n\nMy broadband was down all morning yesterday (central Manchester outage). Do I get "
               "anything back?\n\nOliver Grant"),
         ("A:dan", "Dear Oliver,\n\nYes. Everyone affected by the outage on 14 October gets a £5 credit, "
                   "which will show on your next bill. Sorry for the disruption.\n\nRegards,\nDan",
          {"alternative": True}),
     ]},
    {"id": "email-006", "started_at": "2026-10-21T16:30:00+00:00", "customer": "amira",
     "subject": "Re: Your price is changing", "messages": [
         ("C", "Hello,\n\nI got your letter about the price change. Can I leave without a fee?\n\nAmira"),
         ("A:ben", "<p>Dear Amira,</p><p>The yearly price change is part of your contract, so it doesn't give "
                   "a right to leave without a fee. Your contract ends on <b>3 March 2027</b>.</p>"
                   "<p>Kind regards,<br>Ben<br>Kestrel Telecom</p>", {"html": True}),
         ("C", "OK, thanks for explaining.\n\nAmira"),
     ]},
    {"id": "email-007", "started_at": "2026-10-29T10:05:00+00:00", "customer": "fiona",
     "subject": "Roaming in the USA", "messages": [
         ("C", "Hi,\n\nI'm going to New York in December. How much will data cost?\n\nFiona"),
         ("A:cara", "Hi Fiona,\n\nThe USA isn't in your included roaming zone. Our World Traveller bundle gives "
                    "you 5 GB for £10 a week. You can add it in the My Kestrel app.\n\nThanks,\nCara"),
     ]},
    {"id": "email-008", "started_at": "2026-11-05T09:00:00+00:00", "customer": "luke",
     "subject": "Broadband for my new office", "messages": [
         ("C", "Hello,\n\nI'm opening a small office (4 people) in Manchester M2. What business broadband do "
               "you offer?\n\nLuke Fraser"),
         ("A:ben", "Dear Luke,\n\nOur Business Fibre 900 is £45 a month with a static IP and a 4-hour repair "
                   "promise. Would you like a call to go through it?\n\nBest wishes,\nBen"),
         ("C", "Yes please, call me on Monday morning.\n\nLuke"),
     ]},
    {"id": "email-009", "started_at": "2026-11-13T14:45:00+00:00", "customer": "zara",
     "subject": "Large print bills", "messages": [
         ("C", "<div>Hello, my mother has poor eyesight. Can her bills be sent in large print?</div>"
               "<div>Zara Ali (on behalf of Mrs S. Ali)</div>", {"html": True}),
         ("A:ada", "Dear Zara,\n\nOf course. I've set the account to large print bills from next month. "
                   "We can also add you as a trusted contact if your mother agrees.\n\nKind regards,\nAda"),
     ]},
    {"id": "email-010", "started_at": "2026-11-16T11:25:00+00:00", "customer": "victor",
     "subject": "Keeping my number", "messages": [
         ("C", "Hi,\n\nI'm leaving Kestrel for another network. How do I keep my mobile number?\n\nVictor"),
         ("A:cara", "Hi Victor,\n\nSorry to see you go. Text PAC to 65075 and give the code to your new "
                    "network. They'll move the number within one working day.\n\nThanks,\nCara"),
         ("C", "Done, thanks.\n\nVictor"),
         ("A:cara", "Thanks Victor, your number moved today and your Kestrel mobile plan is closed. No further "
                    "charges will be taken.\n\nCara"),
     ]},
]

# Social threads. Customers not in customers.py carry their own (handle, display name, followers).
SOCIAL: list[dict[str, Any]] = [
    {"id": "s01", "platform": "twitter", "customer": "techguru", "followers": 250000,
     "started_at": "2026-10-14T07:55:00+00:00", "posts": [
         ("root", "C", "Whole of central Manchester has no @KestrelHelp broadband since 6am. Working from home "
                       "is a joke with this lot. Anyone else?", {}),
         ("r1", "A", "Hi Gareth, sorry about this. There's an outage affecting M1-M4, engineers are on site and "
                     "we expect it fixed by midday. We'll update you here. Sam", {"after": 6}),
         ("r2", "C", "Midday?! That's half a working day gone.", {"after": 4, "parent": "r1"}),
         ("r3", "A", "Good news: the service is back. Everyone affected gets a £5 credit automatically. Sam",
          {"after": 215, "parent": "r2"}),
         ("r4", "C", "Back up here. Thanks for the updates at least.", {"after": 12, "parent": "r3"}),
     ]},
    {"id": "s02", "platform": "twitter", "customer": "sally", "followers": 87,
     "started_at": "2026-10-14T08:05:00+00:00", "posts": [
         ("root", "C", "@KestrelHelp my broadband is down, M3. Is there a problem? Can't get through on the "
                       "phone.", {}),
         ("r1", "A", "Hi Sally, sorry for the slow reply. There was an outage in central Manchester this "
                     "morning, it's fixed now. Is your connection back? Sam", {"after": 325}),
         ("r2", "C", "It's back, but would have been nice to hear that 5 hours ago.", {"after": 20, "parent": "r1"}),
     ]},
    {"id": "s03", "platform": "twitter", "customer": "maria", "followers": 412,
     "started_at": "2026-10-08T21:30:00+00:00", "posts": [
         ("root", "C", "Called @KestrelHelp on Monday, chatted last night, broadband STILL drops every evening. "
                       "I work from home. Engineer not until next Tuesday. Is anyone actually going to fix this?", {}),
         ("r1", "A", "Hi Maria, I'm sorry. Please send us a DM with your account postcode so I can look into "
                     "this for you. Sam", {"after": 35}),
         ("d1", "C", "DM: postcode M1 4BT. I've spoken to Dan and Cara already.",
          {"after": 10, "parent": "r1", "private": True}),
         ("d2", "A", "DM: Thanks Maria. I've escalated your fault to the engineering manager and asked for an "
                     "earlier visit. I'll message you tomorrow by 10am. Sam",
          {"after": 8, "parent": "d1", "private": True}),
     ]},
    {"id": "s04", "platform": "twitter", "customer": "quiet", "followers": 23,
     "started_at": "2026-10-20T09:40:00+00:00", "posts": [
         ("root", "C", "@KestrelHelp you've charged me twice this month. Sort it out.", {}),
         ("f1", "A", "Hi there, sorry to hear that. Please DM us your name and postcode and we'll refund any "
                     "duplicate payment. Sam", {"after": 32}),
         ("f2", "A", "Hi again, just following up on the double charge. Send us a DM whenever you're ready and "
                     "we'll sort it. Sam", {"after": 1440, "parent": "f1"}),
         ("f3", "A", "Hi, we still haven't heard from you. We'd really like to fix the double charge, please "
                     "DM us your name and postcode. Sam", {"after": 1445, "parent": "f2"}),
         ("f4", "A", "Last message from us on this one: if the double charge is still there, DM us your name "
                     "and postcode and we'll refund it. Sam", {"after": 1200, "parent": "f3"}),
     ]},
    {"id": "s05", "platform": "facebook", "handle": ("linda.shaw.52", "Linda Shaw", 340),
     "started_at": "2026-09-05T14:20:00+00:00", "posts": [
         ("root", "C", "Big thank you to the Kestrel engineer who came out today, lovely lad, explained "
                       "everything and tidied up after himself.", {}),
         ("r1", "A", "Thanks so much Linda, we'll pass this on to the team! Sam", {"after": 50}),
     ]},
    {"id": "s06", "platform": "instagram", "handle": ("bristolbites", "Bristol Bites", 1870),
     "started_at": "2026-09-11T12:00:00+00:00", "posts": [
         ("root", "C", "Is full fibre coming to Bristol BS5 any time soon?", {}),
         ("r1", "A", "Hi! Full fibre is being built in BS5 now, most streets will be live by January. You can "
                     "check your address on our website. Sam", {"after": 90}),
     ]},
    {"id": "s07", "platform": "twitter", "handle": ("paulw_mcr", "Paul W", 205),
     "started_at": "2026-09-18T07:45:00+00:00", "posts": [
         ("root", "C", "Another price rise from @KestrelHelp. Loyalty means nothing.", {}),
         ("r1", "A", "Hi Paul, sorry you feel that way. Please DM us and we'll check whether there's a better "
                     "deal on your account. Sam", {"after": 75}),
     ]},
    {"id": "s08", "platform": "twitter", "handle": ("leedsjen", "Jen in Leeds", 640),
     "started_at": "2026-09-29T17:10:00+00:00", "posts": [
         ("root", "C", "@KestrelHelp no 5G signal at all in Headingley since yesterday", {}),
         ("r1", "A", "Hi Jen, we're upgrading a mast in Headingley. Signal should be back by Thursday. "
                     "Sorry for the hassle. Sam", {"after": 40}),
         ("r2", "C", "Thanks for letting me know", {"after": 15, "parent": "r1"}),
     ]},
    {"id": "s09", "platform": "facebook", "handle": ("derek.holt.7", "Derek Holt", 95),
     "started_at": "2026-10-01T10:30:00+00:00", "posts": [
         ("root", "C", "45 minutes on hold to Kestrel and then cut off. Absolutely useless.", {}),
         ("r1", "A", "Hi Derek, I'm really sorry. Please send us a private message with your account number "
                     "and I'll call you back today. Sam", {"after": 25}),
         ("d1", "C", "Sent you a message.", {"after": 30, "parent": "r1"}),
         ("d2", "A", "Thanks Derek, I've booked a callback for 2pm today. Sam",
          {"after": 10, "parent": "d1", "private": True}),
     ]},
    {"id": "s10", "platform": "twitter", "handle": ("travelwithtash", "Tash", 5400),
     "started_at": "2026-10-04T06:15:00+00:00", "posts": [
         ("root", "C", "@KestrelHelp does my plan include roaming in Turkey?", {}),
         ("r1", "A", "Hi Tash, Turkey isn't in the Europe zone. The World Traveller bundle is £10 a week for "
                     "5 GB. Have a great trip! Sam", {"after": 55}),
     ]},
    {"id": "s11", "platform": "twitter", "handle": ("mikeb_codes", "Mike B", 1320),
     "started_at": "2026-10-10T13:05:00+00:00", "posts": [
         ("root", "C", "Shout out to Ada at @KestrelHelp, sorted my bill on chat in five minutes.", {}),
         ("r1", "A", "Thanks Mike, we'll make sure Ada sees this! Sam", {"after": 30}),
     ]},
    {"id": "s12", "platform": "instagram", "handle": ("ruthie.makes", "Ruth", 760),
     "started_at": "2026-10-14T09:20:00+00:00", "posts": [
         ("root", "C", "No internet in Manchester again, can't even post this from home. Thanks Kestrel.", {}),
     ]},
    {"id": "s13", "platform": "twitter", "handle": ("dave_m1", "Dave", 41),
     "started_at": "2026-10-14T08:40:00+00:00", "posts": [
         ("root", "C", "@KestrelHelp broadband down in M1, any ETA?", {}),
         ("r1", "A", "Hi Dave, sorry. There's an outage in central Manchester, we expect it fixed by midday. Sam",
          {"after": 95}),
     ]},
    {"id": "s14", "platform": "facebook", "handle": ("karen.ellis.33", "Karen Ellis", 210),
     "started_at": "2026-10-25T11:00:00+00:00", "posts": [
         ("root", "C", "Moving house next month, how much notice do you need to move my broadband?", {}),
         ("r1", "A", "Hi Karen, two weeks is ideal. You can book the move in the My Kestrel app. Sam",
          {"after": 120}),
     ]},
    {"id": "s15", "platform": "twitter", "handle": ("grannysmith_uk", "Joan Smith", 18),
     "started_at": "2026-11-02T15:50:00+00:00", "posts": [
         ("root", "C", "@KestrelHelp I got a text saying my account is suspended and to click a link. Is it you?",
          {}),
         ("r1", "A", "Hi Joan, that's not us, please don't click the link. Forward the text to 7726 and delete "
                     "it. Sam", {"after": 12}),
         ("r2", "C", "Thank you dear, deleted.", {"after": 25, "parent": "r1"}),
     ]},
    {"id": "s16", "platform": "twitter", "handle": ("nickp_89", "Nick P", 330),
     "started_at": "2026-11-07T10:10:00+00:00", "posts": [
         ("root", "C", "@KestrelHelp still waiting for the returns label for my old router", {}),
         ("r1", "A", "Hi Nick, sorry about that. DM us your postcode and I'll send a new label. Sam",
          {"after": 45}),
         ("d1", "C", "DM: it's SW9 8QL", {"after": 20, "parent": "r1", "private": True}),
         ("d2", "A", "DM: Label sent to your e-mail just now. Sam", {"after": 5, "parent": "d1", "private": True}),
     ]},
    {"id": "s17", "platform": "facebook", "handle": ("priti.desai.1", "Priti Desai", 150),
     "started_at": "2026-11-11T19:25:00+00:00", "posts": [
         ("root", "C", "Private message: can you explain the 'one-off charges' on my November bill?",
          {"private": True}),
         ("r1", "A", "Hi Priti, that's the £4.99 for the extra data you added on 3 November. Sam",
          {"after": 18, "private": True}),
     ]},
    {"id": "s18", "platform": "twitter", "handle": ("grumpyalan", "Alan", 2900),
     "started_at": "2026-11-15T12:35:00+00:00", "posts": [
         ("root", "C", "Love how @KestrelHelp has time to tweet memes but not to answer the phone.", {}),
         ("r1", "A", "Hi Alan, fair point, our phone queues were long today. What can I help with? Sam",
          {"after": 20}),
     ]},
    {"id": "s19", "platform": "instagram", "handle": ("jasmine.k", "Jasmine", 980),
     "started_at": "2026-11-17T18:00:00+00:00", "posts": [
         ("root", "C", "Is the new phone deal available for existing customers?", {}),
         ("r1", "A", "Hi Jasmine, yes! If you're within 3 months of your upgrade date, check the app. Sam",
          {"after": 65}),
     ]},
    {"id": "s20", "platform": "twitter", "handle": ("rob_speedtest", "Rob", 260),
     "started_at": "2026-11-18T20:15:00+00:00", "posts": [
         ("root", "C", "Paying for 500 Mb from @KestrelHelp and getting 90. Time to switch?", {}),
         ("r1", "A", "Hi Rob, that's well below what you should get. DM us and I'll book a line check. Sam",
          {"after": 28}),
         ("d1", "C", "DM: account KT-448201", {"after": 40, "parent": "r1", "private": True}),
         ("d2", "A", "DM: Found a faulty port at the cabinet, it's fixed. Speeds should be 500 again. Sam",
          {"after": 180, "parent": "d1", "private": True}),
         ("r2", "C", "Fair play @KestrelHelp, back to full speed.", {"after": 60, "parent": "r1"}),
     ]},
]
