"""Configuration comes from the environment; errors name the variable and never echo secrets."""

from __future__ import annotations

import pytest

from core.config import ConfigError, from_env


def test_defaults_need_no_environment():
    settings = from_env({})
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.port == 8080 and settings.kubeconfig is None


@pytest.mark.parametrize("env,message", [
    ({"DOCKYARD_REDIS_URL": "localhost:6379"}, "DOCKYARD_REDIS_URL='localhost:6379' is not a redis"),
    ({"DOCKYARD_RULES_DIR": "/nonexistent/rules"}, "DOCKYARD_RULES_DIR='/nonexistent/rules' is not a directory"),
    ({"KUBECONFIG": "/nonexistent/kubeconfig"}, "KUBECONFIG='/nonexistent/kubeconfig' does not exist"),
    ({"PORT": "eighty"}, "PORT='eighty' must be a whole number"),
    ({"DOCKYARD_LOG_LEVEL": "chatty"}, "DOCKYARD_LOG_LEVEL"),
    ({"DOCKYARD_JOB_BACKOFF": "10,x"}, "DOCKYARD_JOB_BACKOFF='x'"),
    ({"GITLAB_URL": "gitlab.local"}, "GITLAB_URL='gitlab.local' is not a http or https URL"),
])
def test_bad_values_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=None) as err:
        from_env(env)
    assert message in str(err.value)


def test_secrets_never_show_in_repr_or_errors():
    settings = from_env({"SLACK_BOT_TOKEN": "xoxb-very-secret", "GITLAB_TOKEN": "glpat-hush"})
    assert "xoxb-very-secret" not in repr(settings) and "glpat-hush" not in str(settings)
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret"
    with pytest.raises(ConfigError) as err:
        from_env({"DOCKYARD_REDIS_URL": "http://:hunter2@redis.internal:6379"})
    assert "hunter2" not in str(err.value)


def test_a_robot_missing_from_the_per_robot_secrets_does_not_sign_with_the_whole_list():
    settings = from_env({"DINGTALK_ROBOT_WEBHOOK": "a=https://oapi.dingtalk.com/robot/send?access_token=1,"
                                                   "b=https://oapi.dingtalk.com/robot/send?access_token=2",
                         "DINGTALK_ROBOT_SECRET": "a=SECaaa"})
    from bots.dingtalk.sink import DingTalkSink

    sink = DingTalkSink(None, settings)  # type: ignore[arg-type]  # robot_url needs no Redis
    assert "sign=" in sink.robot_url("a")
    assert "sign=" not in sink.robot_url("b")  # unsigned, rather than signed with the text "a=SECaaa"
