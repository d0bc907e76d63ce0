"""One example of every verb, for the tests that prove each chat channel understands them all."""

EVERY_COMMAND = ["/deploy web v2", "/deploy web promote", "/rollback web to 3", "/scale web 2", "/autoscale web 2-4",
                 "/status web", "/history web", "/logs web", "/config web", "/restart web", "/events web", "/build web",
                 "/approve abcd12", "/reject abcd12 no", "/silence HighErrorRate 1h", "/freeze prod until 2h",
                 "/unfreeze prod", "/schedule list", "/help deploy"]
