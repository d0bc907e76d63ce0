"""Feishu (飞书): event subscription (commands, card buttons), signed custom bots, cards, the outbox."""
