/* status: see status.h. */
#include "status.h"

#include <inttypes.h>

/* A JSON string: config names and printable peer names need no more than
 * the escapes of " and \, but control characters are escaped anyway. */
static void jstr(FILE *o, const char *v)
{
	fputc('"', o);
	for (; *v; v++) {
		unsigned char ch = (unsigned char)*v;
		if (ch == '"' || ch == '\\')
			fprintf(o, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(o, "\\u%04x", ch);
		else
			fputc(ch, o);
	}
	fputc('"', o);
}

/* PRE (a separator: "", ",", "{") then "KEY":"VAL". */
static void jfield(FILE *o, const char *pre, const char *key, const char *val)
{
	fprintf(o, "%s\"%s\":", pre, key);
	jstr(o, val);
}

static uint64_t refused_sum(const struct snapshot_forward *f)
{
	uint64_t n = 0;
	for (size_t r = 0; r < SNAPSHOT_REFUSALS; r++)
		n += f->refused[r];
	return n;
}

static const char *tf(bool b)
{
	return b ? "true" : "false";
}

void status_render_json(const struct snapshot *s, FILE *o)
{
	jfield(o, "{", "gateway", s->gateway);
	jfield(o, ",", "version", s->version);
	jfield(o, ",", "engine", s->engine);
	jfield(o, ",", "transport", s->transport);
	jfield(o, ",", "role", s->role);
	fprintf(o, ",\"ready\":%s,\"draining\":%s,\"uptime_seconds\":%.3f", tf(snapshot_ready(s)),
	        tf(s->draining), s->uptime_s);
	jfield(o, ",\"association\":{", "state", s->state);
	jfield(o, ",", "peer", s->peer);
	fprintf(o,
	        ",\"established\":%s,\"authenticated\":%s,\"establishments\":%" PRIu64
	        ",\"streams_in_use\":%u,\"streams_limit\":%u,\"connections\":%" PRIu64 "}",
	        tf(s->established), tf(s->authenticated), s->establishments, s->streams_in_use,
	        s->streams_limit, s->conns_active);
	fprintf(o, ",\"memory\":{\"reserved_bytes\":%" PRIu64 ",\"limit_bytes\":%" PRIu64 "}",
	        s->mem_reserved, s->memory_limit);
	fputs(",\"paths\":[", o);
	for (size_t i = 0; i < s->n_paths; i++) {
		const struct snapshot_path *p = &s->paths[i];
		jfield(o, i ? ",{" : "{", "name", p->name);
		jfield(o, ",", "local", p->local);
		jfield(o, ",", "remote", p->remote);
		jfield(o, ",", "state", p->state);
		fprintf(o, ",\"priority\":%d,\"primary\":%s", p->priority,
		        tf(p->known && p->primary));
		if (p->known)
			fprintf(
			    o,
			    ",\"srtt_seconds\":%.3f,\"rto_seconds\":%.3f,\"cwnd_bytes\":%" PRIu64,
			    p->srtt_s, p->rto_s, p->cwnd_bytes);
		fprintf(o, ",\"failures\":%" PRIu64 ",\"failovers\":%" PRIu64 "}", p->failures,
		        p->failovers);
	}
	fputs("],\"forwards\":[", o);
	for (size_t i = 0; i < s->n_forwards; i++) {
		const struct snapshot_forward *f = &s->forwards[i];
		jfield(o, i ? ",{" : "{", "name", f->name);
		fprintf(o, ",\"active\":%" PRIu64 ",\"accepted\":%" PRIu64 ",\"refused\":{",
		        f->active, f->accepted);
		for (size_t r = 0; r < SNAPSHOT_REFUSALS; r++)
			fprintf(o, "%s\"%s\":%" PRIu64, r ? "," : "", s->refusal_names[r],
			        f->refused[r]);
		fprintf(o,
		        "},\"bytes_client_to_target\":%" PRIu64
		        ",\"bytes_target_to_client\":%" PRIu64 "}",
		        f->bytes_up, f->bytes_down);
	}
	fputs("]}\n", o);
}

void status_render_lines(const struct snapshot *s, FILE *o)
{
	fprintf(o, "gateway %s %s %s %s %s\n", s->gateway, s->version, s->engine, s->transport,
	        s->role);
	fprintf(o, "association %s %s %d %d %d\n", s->state, s->peer[0] ? s->peer : "-",
	        s->established, s->draining, snapshot_ready(s));
	fprintf(o, "streams %u %u\n", s->streams_in_use, s->streams_limit);
	for (size_t i = 0; i < s->n_paths; i++) {
		const struct snapshot_path *p = &s->paths[i];
		char rtt[32] = "-";
		if (p->known)
			snprintf(rtt, sizeof rtt, "%.0f", p->srtt_s * 1000);
		fprintf(o, "path %s %s %s %s %s %d %" PRIu64 "\n", p->name, p->local, p->remote,
		        p->state, rtt, p->known && p->primary, p->failovers);
	}
	for (size_t i = 0; i < s->n_forwards; i++) {
		const struct snapshot_forward *f = &s->forwards[i];
		fprintf(
		    o, "forward %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		    f->name, f->active, f->accepted, refused_sum(f), f->bytes_up, f->bytes_down);
	}
}
