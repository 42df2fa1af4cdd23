"""pipecat's own Twilio + Grok server, built as pipecat's telephony examples build it.

FastAPI on uvicorn; ``/stream`` accepts Twilio's Media Stream, reads ``connected``/``start`` with
``parse_telephony_websocket``, and runs one pipeline per call:
``FastAPIWebsocketTransport(TwilioFrameSerializer)`` input → user aggregator →
``GrokRealtimeLLMService`` → transport output → assistant aggregator, with
``PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000)`` (pipecat's Twilio
examples) and the agent speaking first (``LLMRunFrame`` on connect). Leanest settings: no RTVI,
no turn tracking, no idle timeout, no metrics, loguru at WARNING, auto hang-up off (it needs
Twilio's REST API). The call id goes into the instructions so the simulator's probes can tie
the realtime socket to the call. Prints ``listening on http://127.0.0.1:PORT`` first.

    .venv-bench/bin/python bench/_pipecat_phone.py --realtime ws://127.0.0.1:PORT/v1/realtime
"""


# no `from __future__ import annotations`: FastAPI reads the endpoint's annotations at run time
import argparse
import asyncio
import socket
import sys


def build_app(realtime_url: str) -> object:
    from fastapi import FastAPI, WebSocket
    from pipecat.frames.frames import LLMRunFrame
    from pipecat.pipeline.pipeline import Pipeline
    from pipecat.pipeline.worker import PipelineParams, PipelineWorker
    from pipecat.processors.aggregators.llm_context import LLMContext
    from pipecat.processors.aggregators.llm_response_universal import (
        LLMContextAggregatorPair,
        LLMUserAggregatorParams,
    )
    from pipecat.runner.utils import parse_telephony_websocket
    from pipecat.serializers.twilio import TwilioFrameSerializer
    from pipecat.services.xai.realtime import events
    from pipecat.services.xai.realtime.llm import GrokRealtimeLLMService
    from pipecat.transports.websocket.fastapi import (
        FastAPIWebsocketParams,
        FastAPIWebsocketTransport,
    )
    from pipecat.turns.user_turn_strategies import ExternalUserTurnStrategies
    from pipecat.workers.runner import WorkerRunner

    app = FastAPI()

    @app.websocket("/stream")
    async def stream(websocket: WebSocket) -> None:
        await websocket.accept()
        _, call_data = await parse_telephony_websocket(websocket)
        serializer = TwilioFrameSerializer(
            stream_sid=call_data["stream_id"], call_sid=call_data["call_id"],
            params=TwilioFrameSerializer.InputParams(auto_hang_up=False))
        transport = FastAPIWebsocketTransport(
            websocket=websocket,
            params=FastAPIWebsocketParams(audio_in_enabled=True, audio_out_enabled=True,
                                          add_wav_header=False, serializer=serializer))
        llm = GrokRealtimeLLMService(
            api_key="bench", base_url=realtime_url,
            settings=GrokRealtimeLLMService.Settings(
                system_instruction=f"Bench agent for call {call_data['call_id']}.",
                session_properties=events.SessionProperties(
                    voice="Ara", turn_detection=events.TurnDetection(type="server_vad"))))
        context = LLMContext(messages=[{"role": "user", "content": "Say hello."}])
        aggregators = LLMContextAggregatorPair(
            context,
            user_params=LLMUserAggregatorParams(user_turn_strategies=ExternalUserTurnStrategies()),
            realtime_service_mode=True)
        pipeline = Pipeline([transport.input(), aggregators.user(), llm, transport.output(),
                             aggregators.assistant()])
        worker = PipelineWorker(
            pipeline,
            params=PipelineParams(audio_in_sample_rate=8000, audio_out_sample_rate=8000),
            enable_rtvi=False, enable_turn_tracking=False, idle_timeout_secs=None,
            check_dangling_tasks=False)

        @transport.event_handler("on_client_connected")
        async def connected(_transport: object, _client: object) -> None:
            await worker.queue_frames([LLMRunFrame()])

        @transport.event_handler("on_client_disconnected")
        async def disconnected(_transport: object, _client: object) -> None:
            await worker.cancel()

        runner = WorkerRunner(handle_sigint=False, check_dangling_tasks=False)
        await runner.add_workers(worker)
        await runner.run()

    return app


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--realtime", required=True)
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(build_app(args.realtime), log_level="warning", lifespan="off")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
