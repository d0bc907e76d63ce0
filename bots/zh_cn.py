"""zh-CN words for messages beyond incidents, alerts, rollouts, approvals, builds and /events (bots/i18n.py
holds those): rollout phrases, cluster rollouts, canary plans, freezes, timed changes, silences, digests and
the read answers (/status, /history, /logs, /config).

English is the key; the wording follows bots/i18n.py's (and so the seed teams' platforms). Commands
(`/deploy web promote`), names and what Kubernetes or a person wrote are placeholders, never translated.
"""

from __future__ import annotations

WORDS: dict[str, str] = {
    # the line a sink puts where it left lines out to fit the platform (bots/cutting.py)
    "… {count} older lines left out to fit one message (the newest are shown)":
        "… 为放进一条消息省略了 {count} 行更早的内容（显示的是最新的）",
    "… and {count} more lines": "… 另有 {count} 行",
    # the pipeline's acknowledgement (bots/pipeline.py)
    "on it: {command}": "收到，正在处理：{command}",
    # what a rollout does (bots/i18n.py PHRASES: jobs write these in English)
    "rolling update to {version}": "滚动更新到 {version}",
    "canary {weight}% of {version}": "金丝雀 {weight}%（{version}）",
    "canary {weight}%": "金丝雀 {weight}%",
    "preview of {version}": "预发布 {version}",
    "preview": "预发布", "canary": "金丝雀", "stable": "稳定版本",
    "promote {track} {version} to stable": "{track} {version} 全量发布为稳定版本",
    "promote to stable": "全量发布为稳定版本",
    "abort": "中止",
    "restart": "重启",
    "rollback to revision {number} ({version})": "回滚到版本 {number}（{version}）",
    "scheduled job image {version}": "定时任务镜像 {version}",
    "scale {before} → {after}": "扩缩容 {before} → {after}",
    "scale to {replicas} ({shares})": "扩缩容到 {replicas}（{shares}）",
    "autoscale {low}–{high}": "自动扩缩容 {low}–{high}",
    "autoscale off": "关闭自动扩缩容",
    "rolling": "滚动更新",
    "canary {weight}% (re-weight the live canary, same image)": "金丝雀 {weight}%（调整在线金丝雀的权重，镜像不变）",
    "promote the live canary": "全量发布在线的金丝雀", "abort the live canary": "中止在线的金丝雀",
    "rollback to revision {number}": "回滚到版本 {number}", "rollback to the previous revision": "回滚到上一个版本",
    "scale to {replicas} replicas": "扩缩容到 {replicas} 个副本",
    "autoscale {low}-{high} at {goals}": "自动扩缩容 {low}-{high}，目标 {goals}",
    "restart every pod": "重启所有实例",
    "next: {weight}, {promote} or {abort}": "下一步：{weight}、{promote} 或 {abort}",
    # what a failed change left behind (the jobs' fixed words)
    "the canary was removed; stable is untouched": "金丝雀已移除；稳定版本未改动",
    "there is no earlier revision to go back to": "没有更早的版本可以回退",
    "check /status and /events": "请查看 /status 和 /events",
    "the canary was removed from every cluster; stable is untouched": "金丝雀已从所有集群移除；稳定版本未改动",
    "the preview was removed from every cluster": "预发布已从所有集群移除",
    # canary plans
    "analysis passed: {weight}% live": "分析通过：{weight}% 已上线",
    "analysis passed at {weight}%: promoted": "{weight}% 时分析通过：已全量发布",
    "analysis failed at {weight}%: {failed}": "{weight}% 时分析未通过：{failed}",
    "aborted after {count} failed analyses in a row": "连续 {count} 次分析未通过，已中止",
    "paused: {env} is frozen by {by} ({reason})": "已暂停：{env} 被 {by} 封版（{reason}）",
    "paused by {who}": "{who} 已暂停", "resumed by {who}": "{who} 已继续",
    "promote by {who}": "{who} 已全量发布", "abort by {who}": "{who} 已中止",
    "{weight}% live": "{weight}% 已上线",
    "no data": "无数据", "ok": "通过", "FAILED": "未通过",
    "{name}: {value} (wants {bound}) {verdict}": "{name}：{value}（要求 {bound}）{verdict}",
    "plan": "计划",
    "{path}, every {every}": "{path}，每 {every}",
    "analysis failures in a row": "连续分析失败次数",
    "{where}: canary plan — {state}": "{where}：金丝雀计划 — {state}",
    "step {step}/{steps}, {weight}% live": "第 {step}/{steps} 步，{weight}% 已上线",
    "paused at {weight}%": "暂停在 {weight}%",
    "promoted to stable": "已全量发布为稳定版本",
    "aborted: all traffic back to stable": "已中止：全部流量回到稳定版本",
    # stale canaries, scheduled jobs, autoscale
    "{days} days": "{days} 天", "{hours} hours": "{hours} 小时",
    "{where}: a {kind} has been live for {age}: promote or abort it":
        "{where}：{kind}已上线 {age}，请全量发布或中止",
    "started by": "发起人",
    "{where}: scheduled job set to {tag}": "{where}：定时任务已设为 {tag}",
    "schedule": "调度", "overlapping runs": "并发运行",
    "the next run uses it; a run already going finishes with the image it started with":
        "下次运行起生效；正在进行的运行用它开始时的镜像跑完",
    "{service} ({env}): autoscaling {low}–{high} replicas at {goals}":
        "{service}（{env}）：自动扩缩容 {low}–{high} 个副本，目标 {goals}",
    "the HPA needs the metrics API (metrics-server, or an adapter for custom metrics) to act":
        "HPA 需要 metrics API（metrics-server，或自定义指标的适配器）才会生效",
    "deploys keep it until the catalog's autoscale for {env} changes (it says: {catalog})":
        "之后的发布会保留它，直到服务目录中 {env} 的 autoscale 改变（目前为：{catalog}）",
    # rollouts across clusters
    "{where}: {what}": "{where}：{what}",
    "total": "合计",
    "{ready}/{desired} ready on {count} clusters": "{count} 个集群共 {ready}/{desired} 就绪",
    "this message updates as the rollout moves on each cluster": "本消息随各集群的发布进度更新",
    "{where}: {what} — done on {count} clusters in {seconds}s": "{where}：{what} — {count} 个集群完成，用时 {seconds} 秒",
    "{cluster} failed: {reason}": "{cluster} 失败：{reason}",
    "{cluster} not ready: {detail}": "{cluster} 未就绪：{detail}",
    "{cluster}: rolled back to {to}": "{cluster}：已回滚到 {to}",
    "{cluster}: held on the new version (on_failure: hold); {command} undoes it":
        "{cluster}：保留新版本（on_failure: hold）；{command} 可撤销",
    "rolled back": "已回滚", "held elsewhere": "其他集群保留新版本", "not rolled back": "未回滚",
    "{where}: {what} failed on {clusters}; {outcome}": "{where}：{what} 在 {clusters} 失败；{outcome}",
    "{where}: {what} failed on {clusters}": "{where}：{what} 在 {clusters} 失败",
    "{service} ({env}): {what} failed on {clusters}": "{service}（{env}）：{what} 在 {clusters} 失败",
    "{cluster}: put back to {hpa}": "{cluster}：已恢复为 {hpa}",
    "{cluster}: keeps the change (on_failure: hold)": "{cluster}：保留变更（on_failure: hold）",
    "{cluster}: could not be put back ({reason}); check /status": "{cluster}：无法恢复（{reason}）；请查看 /status",
    "each cluster keeps at least 1 replica, so the minimum is {total} in all":
        "每个集群至少保留 1 个副本，所以合计最少 {total} 个",
    "… {count} older sections left out to fit one message": "… 为放进一条消息省略了 {count} 段更早的内容",
    "… and {count} more sections": "… 另有 {count} 段",
    "{what} failed{tries}": "{what} 失败{tries}",
    " after {attempts} attempts": "（已尝试 {attempts} 次）",
    "job {id} is kept in the failed registry for 7 days; requeue it with ./dockyard jobs requeue {id}":
        "任务 {id} 在失败记录中保留 7 天；可用 ./dockyard jobs requeue {id} 重新执行",
    "{total} notifications": "{total} 条通知",
    "{total} notifications in {parts} messages (1/{parts})": "{total} 条通知，分 {parts} 条消息发出（1/{parts}）",
    "{count} of {total} notifications ({part}/{parts})": "{total} 条通知中的 {count} 条（{part}/{parts}）",
    "; {count} more follows when it allows": "；另有 {count} 条在配额允许时发出",
    "; {count} more follow when it allows": "；另有 {count} 条在配额允许时发出",
    "merged to stay within {platform}'s quota{more}": "为不超出{platform}的发送频率限制已合并{more}",
    "each cluster's maximum is at least its minimum, so up to {total} in all":
        "每个集群的最大值不低于其最小值，所以合计最多 {total} 个",
    "{service} ({env}): autoscaling {low}–{high} replicas at {goals} on {count} clusters":
        "{service}（{env}）：{count} 个集群自动扩缩容 {low}–{high} 个副本，目标 {goals}",
    "HPA removed; the replicas stay where it left them": "HPA 已删除；副本数保持删除时的值",
    "had no HPA": "没有 HPA",
    "the catalog says autoscale {catalog} for {env}: the next deploy applies it again; remove autoscale: there to "
    "keep it off": "服务目录中 {env} 的 autoscale 为 {catalog}：下次发布会重新应用；要保持关闭，请删掉那里的 autoscale:",
    "{service} ({env}): autoscaling off{where}": "{service}（{env}）：已关闭自动扩缩容{where}",
    " on {count} clusters": "（{count} 个集群）",
    # cluster health
    "labels": "标签", "since": "开始于",
    "RESOLVED cluster {cluster}: healthy again": "已恢复 集群 {cluster}：重新健康",
    "its API answers and every node is Ready": "API 可以访问，所有节点都已 Ready",
    "cluster {cluster}: API unreachable": "集群 {cluster}：API 无法访问",
    "rollouts to environments on this cluster are refused until it answers; the other clusters keep working":
        "在它恢复访问之前，发布到该集群上环境的操作会被拒绝；其他集群照常工作",
    "cluster {cluster}: nodes not Ready": "集群 {cluster}：有节点未 Ready",
    "pods there may be evicted or stop getting traffic": "其上的实例可能被驱逐或不再接收流量",
    # freezes
    "{env} is frozen by {by} until {until}: {reason}; an SRE may add --break-glass <reason>":
        "{env} 已被 {by} 封版，直到 {until}：{reason}；SRE 可以加上 --break-glass <reason>",
    "{env} frozen until {until}": "{env} 封版至 {until}",
    "every change to it is refused until then; an SRE may --break-glass <reason>":
        "在此之前它的所有变更都会被拒绝；SRE 可以使用 --break-glass <reason>",
    " (frozen by {by}: {reason})": "（封版人 {by}：{reason}）",
    " (it was not frozen)": "（它没有封版）",
    "{env} unfrozen by {who}{was}": "{env} 已由 {who} 解除封版{was}",
    "break glass: {who} ran {command} in frozen {env}": "紧急变更：{who} 在封版中的 {env} 执行了 {command}",
    "by": "操作人", "reason": "理由", "frozen by": "封版人", "freeze": "封版", "until": "截止",
    "no reason given": "未说明理由",
    # timed changes
    "scheduled {id}: {change} at {at}": "已定时 {id}：{change}，执行时间 {at}",
    "{id}  {at}  {change}  by {who}": "{id}  {at}  {change}  申请人 {who}",
    "{count} timed change(s) waiting": "{count} 个定时变更等待执行",
    "cancelled {id}: {change} (by {who})": "已取消 {id}：{change}（{who}）",
    "{id} is due: {change} starts now": "{id} 已到时间：{change} 现在开始",
    "asked by": "申请人", "Cancel": "取消", "none": "无",
    # silences
    "health messages for {service} held until {until}": "{service} 的健康消息暂停到 {until}",
    "incidents are still counted; the message catches up when the hold ends": "事件仍会计数；暂停结束后消息会补上",
    "silenced {matcher} until {until}": "已静默 {matcher}，直到 {until}",
    "silence": "静默", "Expire": "失效",
    "{id}  {matchers}  until {until}  by {who}": "{id}  {matchers}  截止 {until}  创建人 {who}",
    "{count} active silence(s)": "{count} 个生效中的静默",
    "silence {silence_id} expired by {who}": "静默 {silence_id} 已由 {who} 设为失效",
    # the daily digest (and its items, bots/i18n.py DIGEST_PHRASES)
    "{team}: the last 24 hours ({date})": "{team}：过去 24 小时（{date}）",
    "deploys": "发布", "rollbacks": "回滚", "approvals": "审批", "incidents": "故障", "alerts": "告警",
    "still open": "仍未结束",
    "{part} ({count}): {items}{more}": "{part}（{count}）：{items}{more}",
    " … and {count} more": " … 另有 {count} 条",
    "a quiet day: nothing changed, nothing broke": "平静的一天：没有变更，也没有故障",
    "{id} approved by {who}": "{id} 已由 {who} 批准",
    "{id} rejected by {who}": "{id} 已被 {who} 拒绝",
    "approval {id} for {service} ({env})": "审批 {id}：{service}（{env}）",
    "incident {where}": "故障 {where}",
    "{track} of {service} ({env}) by {who}": "{service}（{env}）的{track}，发起人 {who}",
    "{change} by {who}": "{change}（{who}）",
    "{count} message(s) held during quiet hours": "免打扰时段暂存了 {count} 条消息",
    # /history
    "{name} ({env}) history": "{name}（{env}）发布历史",
    "{name} ({env}) has no rollout history yet": "{name}（{env}）还没有发布历史",
    "  ← current": "  ← 当前",
    "  on {clusters}": "  集群 {clusters}",
    # /logs
    "{name} ({env}) logs, last {tail} lines per pod": "{name}（{env}）日志，每个实例最后 {tail} 行",
    "{name} ({env}) previous (crashed) container's logs, last {tail} lines per pod":
        "{name}（{env}）上一个（崩溃的）容器的日志，每个实例最后 {tail} 行",
    "{name} ({env}) has no pods": "{name}（{env}）没有实例",
    "{name} ({env}): no pod has restarted, so there is no previous container to show":
        "{name}（{env}）：没有实例重启过，所以没有上一个容器可显示",
    "pods: {pods}": "实例：{pods}",
    "{command} shows the running containers": "{command} 显示正在运行的容器",
    " (previous container: {crash})": "（上一个容器：{crash}）",
    "ended": "已结束", "exit {code}": "退出码 {code}", "at {time}": "于 {time}", "restarted {count}×": "重启 {count} 次",
    " — newest {kept} of {total} lines; {cut} older left out to fit one message":
        " — 显示 {total} 行中最新的 {kept} 行；为放进一条消息省略了 {cut} 行更早的",
    "never restarted, so no previous container: {pods}": "从未重启，所以没有上一个容器：{pods}",
    "lines were left out to fit one message: ask for fewer ({command}) or read one pod with kubectl logs":
        "为放进一条消息省略了部分行：少要一些（{command}），或用 kubectl logs 查看单个实例",
    # /config
    "{name} ({env}) configuration": "{name}（{env}）配置",
    "{name} ({env}) has no configuration in the catalog": "{name}（{env}）在服务目录中没有配置",
    "add config: to the service in rules/catalog.yaml": "在 rules/catalog.yaml 中为该服务加上 config:",
    "{env} override": "{env} 覆盖", "service": "服务", "literal": "字面值", " (value never shown)": "（从不显示值）",
    "set by Dockyard": "由 Dockyard 设置",
    "⚠ ConfigMap {configmap} has no key {key} in {namespace}: deploys are refused until it has":
        "⚠ {namespace} 中的 ConfigMap {configmap} 没有键 {key}：补上之前发布会被拒绝",
    "running": "运行中", "a deploy now": "现在发布",
    "the configuration changed since the running pods started: {command} rolls them onto it":
        "运行中的实例启动后配置已改变：{command} 会让它们用上新配置",
    "{name} is not deployed in {namespace} yet": "{name} 还没有部署到 {namespace}",
    "Secrets are named, never read: rotating one rolls nothing; {command} does":
        "Secret 只写名字、从不读取：轮换它不会触发滚动，{command} 会",
    # /status
    "{name} status": "{name} 状态",
    "team": "团队", "language": "语言", "git": "git", "router": "路由",
    ", prod approval required": "，生产发布需要审批",
    ", autoscale {range}": "，自动扩缩容 {range}",
    "1 pod per run ×": "每次运行 1 个实例 ×",
    "no cluster configured: showing the catalog only": "没有配置集群：只显示服务目录",
    "{env} on {cluster}": "{env}（集群 {cluster}）",
    "{env} on {cluster}: unreachable ({why})": "{env}（集群 {cluster}）：无法访问（{why}）",
    "{env} in all: {ready}/{desired} ready on {count} clusters": "{env} 合计：{count} 个集群共 {ready}/{desired} 就绪",
    "{env}: not deployed yet (no {kind} {name} in {namespace})": "{env}：尚未部署（{namespace} 中没有 {kind} {name}）",
    "{env}: {ready}/{desired} ready, {updated} updated, image {image}":
        "{env}：{ready}/{desired} 就绪，{updated} 已更新，镜像 {image}",
    ", config {checksum}": "，配置 {checksum}",
    "{env} {track}: {ready}/{desired} ready, image {image}": "{env} {track}：{ready}/{desired} 就绪，镜像 {image}",
    ", weight {weight}% asked, {actual}% actual by replicas": "，要求权重 {weight}%，按副本数实际 {actual}%",
    ", weight {weight}% ({router})": "，权重 {weight}%（{router}）",
    "{env} autoscale: {low}–{high}": "{env} 自动扩缩容：{low}–{high}",
    "{count} current": "当前 {count}", "{count} desired": "期望 {count}",
    ", not acted on yet": "，尚未生效",
    " — at its maximum of {high}: raise it with {command} or in the catalog":
        " — 已到上限 {high}：用 {command} 或在服务目录中调高",
    " (set by {who} with /autoscale; the catalog says {said})": "（{who} 用 /autoscale 设置；服务目录为 {said}）",
    "{env} warning: {warning}": "{env} 警告：{warning}",
    "{env} {track} pods (name, node, IP, image, ready, restarts, age):":
        "{env} {track}实例（名称、节点、IP、镜像、就绪、重启次数、运行时长）：",
    "ready": "就绪", "not ready ({phase})": "未就绪（{phase}）", "unscheduled": "未调度",
    "{env}: schedule {schedule}{zone}{state}, overlapping runs {concurrency}, image {image}":
        "{env}：调度 {schedule}{zone}{state}，并发运行 {concurrency}，镜像 {image}",
    ", suspended": "，已暂停",
    "{env}: last scheduled {time}": "{env}：上次调度 {time}",
    "{env}: no runs kept yet (the first starts on the schedule)": "{env}：还没有运行记录（第一次按调度开始）",
    "{env} run {run}: started {started}{finished}, {how}, image {image}":
        "{env} 运行 {run}：开始于 {started}{finished}，{how}，镜像 {image}",
    ", finished {time}": "，结束于 {time}",
    "succeeded": "成功", "failed ({reason})": "失败（{reason}）",
}
