"""Every chat verb, one module each; importing the package registers them all (in /help's order).

Adding a verb: a module here with its command classes and @verb parser, its job
(the dotted path the class names), and its test. Nothing else lists verbs.
"""

from bots.commands.base import COMMAND_TYPES, REGISTRY, Command, CommandError, Tokens, Verb, verb
from bots.commands.deploy import Deploy, DeployControl, PlanStep
from bots.commands.rollback import Rollback
from bots.commands.scaling import Autoscale, Scale
from bots.commands.reads import History, Logs, Status
from bots.commands.config import Config
from bots.commands.restart import Restart
from bots.commands.events import Events
from bots.commands.build import Build
from bots.commands.approvals import Approve, Reject
from bots.commands.silence import Silence, SilenceExpire, SilenceList
from bots.commands.freeze import Freeze, Unfreeze
from bots.commands.schedule import ScheduleCancel, ScheduleList
from bots.commands.help import Help

__all__ = ["COMMAND_TYPES", "REGISTRY", "Command", "CommandError", "Tokens", "Verb", "verb", "Deploy",
           "DeployControl", "PlanStep", "Rollback", "Scale", "Autoscale", "Status", "History", "Logs", "Config", "Restart", "Events",
           "Build", "Approve", "Reject", "Silence", "SilenceList", "SilenceExpire", "Freeze", "Unfreeze", "ScheduleList",
           "ScheduleCancel", "Help"]
