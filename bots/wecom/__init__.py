"""WeCom (企业微信): the app's encrypted callback, group-robot markdown, the quota-keeping outbox."""
