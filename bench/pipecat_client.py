"""pipecat's Grok realtime service, driven as lightly as pipecat allows, for `compare.py`.

How it is driven (so nobody can say it was handicapped):
- the smallest pipeline that completes a tool round trip:
  ``Pipeline([aggregators.user(), GrokRealtimeLLMService, aggregators.assistant()])``.
  The service sends ``function_call_output`` by itself, but the next ``response.create`` only
  comes when the assistant aggregator pushes the context back upstream, so the pair is needed;
- no transport, no VAD, no STT/TTS, no RTVI, no turn tracking, no idle timeout, no metrics;
- the aggregator pair in realtime mode with ``ExternalUserTurnStrategies`` (the default
  strategies would load a local smart-turn model per pipeline, which a realtime service never
  uses);
- a ``PipelineWorker`` run by a ``WorkerRunner`` (handle_sigint off), started by queueing one
  ``LLMRunFrame`` over an ``LLMContext`` holding one user message and the ``ping`` tool;
- ``ping`` is a plain coroutine registered with ``register_function`` that returns at once;
- loguru is set to WARNING (its default is DEBUG to stderr, which a deployment turns down).

Modes are the same as `floor_client.py`: ``run`` (one call, exits after the first reply that
calls no tool) and ``idle`` (N workers in one process, prints ``ready``, holds until stdin closes).
"""

from __future__ import annotations

import asyncio
import sys

from _client_args import parse_client_args

__all__ = ["main"]


def _quiet_logs() -> None:
    """Turn loguru down to WARNING, as any production deployment does."""
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")


def _build(url: str, text: str, replied: asyncio.Event) -> object:
    """Build one pipeline worker whose `replied` event is set when a plain reply is done.

    Args:
        url: The realtime endpoint (pipecat appends ``?model=``).
        text: The user line that starts the conversation.
        replied: Set when a response that called no tool has ended.

    Returns:
        The ``PipelineWorker``, ready to add to a runner.
    """
    from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
    from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
    from pipecat.frames.frames import LLMRunFrame
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.processors.aggregators.llm_context import LLMContext
    from pipecat.processors.aggregators.llm_response_universal import (
        LLMContextAggregatorPair,
        LLMUserAggregatorParams,
    )
    from pipecat.services.xai.realtime import events
    from pipecat.services.xai.realtime.llm import GrokRealtimeLLMService
    from pipecat.turns.user_turn_strategies import ExternalUserTurnStrategies

    llm = GrokRealtimeLLMService(
        api_key="bench",
        base_url=url,
        settings=GrokRealtimeLLMService.Settings(
            system_instruction="You are a benchmark agent. Call ping when asked.",
            session_properties=events.SessionProperties(
                voice="Ara",
                turn_detection=None,
                audio=events.AudioConfiguration(
                    input=events.AudioInput(format=events.PCMAudioFormat(rate=24000)),
                    output=events.AudioOutput(format=events.PCMAudioFormat(rate=24000)),
                ),
            ),
        ),
    )

    async def ping(params: object) -> None:
        await params.result_callback({"ok": True})  # type: ignore[attr-defined]

    llm.register_function("ping", ping)
    tools = ToolsSchema(
        standard_tools=[
            FunctionSchema(name="ping", description="Answer at once.", properties={}, required=[])
        ]
    )
    context = LLMContext(messages=[{"role": "user", "content": text}], tools=tools)
    # External turn strategies: the default ones load a local smart-turn ONNX model per
    # pipeline (about 11 MiB each), which a realtime service with server-side turns never uses.
    aggregators = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(user_turn_strategies=ExternalUserTurnStrategies()),
        realtime_service_mode=True,
    )
    pipeline = Pipeline([aggregators.user(), llm, aggregators.assistant()])
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=24000, audio_out_sample_rate=24000),
        enable_rtvi=False,
        enable_turn_tracking=False,
        idle_timeout_secs=None,
        check_dangling_tasks=False,
    )

    async def turn_stopped(_aggregator: object, message: object) -> None:
        if message.content:  # type: ignore[attr-defined]
            replied.set()

    aggregators.assistant().add_event_handler("on_assistant_turn_stopped", turn_stopped)
    worker.bench_start = LLMRunFrame()  # type: ignore[attr-defined]
    return worker


async def _run(url: str, text: str, calls: int, idle: bool) -> None:
    """Run `calls` workers in one runner; end after the replies (run) or stdin EOF (idle)."""
    from pipecat.workers.runner import WorkerRunner

    replies = [asyncio.Event() for _ in range(calls)]
    workers = [_build(url, text, ev) for ev in replies]
    runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
    await runner.add_workers(*workers)
    runner_task = asyncio.create_task(runner.run())
    for worker in workers:
        await worker.queue_frame(worker.bench_start)  # type: ignore[attr-defined]
    await asyncio.gather(*(ev.wait() for ev in replies))
    if idle:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cancel()
    await runner_task


def main(argv: list[str] | None = None) -> int:
    """Parse the common bench client arguments and run one mode.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    args = parse_client_args(argv, __doc__)
    _quiet_logs()
    asyncio.run(_run(args.url, args.text, args.calls, args.mode == "idle"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
