CREATE SEQUENCE "agent_revision" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "agent_counters" (
	"topic" text NOT NULL,
	"agent" text NOT NULL,
	"received" bigint DEFAULT 0 NOT NULL,
	"succeeded" bigint DEFAULT 0 NOT NULL,
	"failed" bigint DEFAULT 0 NOT NULL,
	"retried" bigint DEFAULT 0 NOT NULL,
	"dead_lettered" bigint DEFAULT 0 NOT NULL,
	"latency_buckets" bigint[] DEFAULT '{}'::bigint[] NOT NULL,
	"latency_sum_ms" double precision DEFAULT 0 NOT NULL,
	"latency_count" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "agent_counters_pkey" PRIMARY KEY("topic","agent")
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"topic" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"version" text,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"config" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"revision" bigint DEFAULT nextval('agent_revision') NOT NULL,
	"cleanup" jsonb,
	"registered_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "agents_pkey" PRIMARY KEY("topic","name"),
	CONSTRAINT "agents_state_check" CHECK ("agents"."state" in ('active', 'paused', 'deleted'))
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"topic" text,
	"agent" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"task_id" text NOT NULL,
	"agent" text NOT NULL,
	"topic" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"result" jsonb,
	"last_error" jsonb,
	"correlation_id" text,
	"tenant_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"duration_ms" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "tasks_pkey" PRIMARY KEY("task_id","agent"),
	CONSTRAINT "tasks_status_check" CHECK ("tasks"."status" in ('pending', 'processing', 'completed', 'failed', 'dead_lettered'))
);
--> statement-breakpoint
CREATE TABLE "workers" (
	"id" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"version" text NOT NULL,
	"agents" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_heartbeat" timestamp with time zone DEFAULT now() NOT NULL,
	"stopped_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_topic_agent_idx" ON "audit_log" USING btree ("topic","agent");--> statement-breakpoint
CREATE INDEX "tasks_expires_at_idx" ON "tasks" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "tasks_topic_created_at_idx" ON "tasks" USING btree ("topic","created_at");--> statement-breakpoint
CREATE INDEX "tasks_created_at_idx" ON "tasks" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "workers_last_heartbeat_idx" ON "workers" USING btree ("last_heartbeat");