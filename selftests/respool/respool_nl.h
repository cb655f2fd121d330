/* SPDX-License-Identifier: GPL-2.0 */
/*
 * respool_nl.h - a tiny libnl request helper shared by the respool
 * selftests that speak the generic netlink family "respool"
 * (netlink_test, numa_test).
 *
 * nlreq_init() starts a request (with NLM_F_ACK), the test puts its
 * attributes into r.msg and may set r.parse, r.maxattr and r.arg to see
 * each reply; nlreq_run() sends it and collects the replies and the ack:
 * its error, the extack message, the attribute the extack points at and,
 * for a policy refusal, that attribute's policy (type and bounds).
 * Link with libnl-genl-3.0 (see the Makefile).
 */
#ifndef _RESPOOL_NL_H
#define _RESPOOL_NL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include <linux/respool.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct nlreq {
	struct nl_sock *sk;
	int family;
	struct nl_msg *msg;
	int err;		/* 0 or -errno of the ack */
	char extack[256];	/* extack message, "" if none */
	int bad_attr;		/* type of the attribute the extack points at */
	/* NLMSGERR_ATTR_POLICY: the policy of the refused attribute. */
	bool pol;		/* the ack carried one */
	uint32_t pol_type;	/* NL_ATTR_TYPE_*, 0 if absent */
	uint64_t pol_min, pol_max;	/* NL_POLICY_TYPE_ATTR_M*_VALUE_U */
	bool done;
	int nreplies;
	int (*parse)(struct nlattr **tb, struct nlmsghdr *nlh, void *arg);
	int maxattr;
	void *arg;
};

/*
 * A generic netlink socket with extended acks on, or NULL; *family is the
 * id of the family "respool" (a negative libnl error if it is not there).
 */
static inline struct nl_sock *nl_open(int *family)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1;

	if (!sk)
		return NULL;
	if (genl_connect(sk)) {
		nl_socket_free(sk);
		return NULL;
	}
	*family = genl_ctrl_resolve(sk, RESPOOL_FAMILY_NAME);
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	return sk;
}

/* The unsigned bounds and the type in a policy dump of one attribute. */
static inline void nlreq_policy(struct nlreq *r, struct nlattr *pol)
{
	struct nlattr *pb[NL_POLICY_TYPE_ATTR_MAX + 1] = { NULL };

	r->pol = true;
	r->pol_min = UINT64_MAX - 1;	/* "absent" */
	r->pol_max = UINT64_MAX - 1;
	if (nla_parse_nested(pb, NL_POLICY_TYPE_ATTR_MAX, pol, NULL))
		return;
	if (pb[NL_POLICY_TYPE_ATTR_TYPE])
		r->pol_type = nla_get_u32(pb[NL_POLICY_TYPE_ATTR_TYPE]);
	if (pb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U])
		r->pol_min = nla_get_u64(pb[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]);
	if (pb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U])
		r->pol_max = nla_get_u64(pb[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]);
}

static inline int nlreq_err(struct sockaddr_nl *nla, struct nlmsgerr *e,
			    void *arg)
{
	struct nlmsghdr *nlh = (void *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { NULL };
	struct nlreq *r = arg;

	(void)nla;
	r->err = e->error;
	r->done = true;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		int hlen = sizeof(*e);

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			hlen += e->msg.nlmsg_len - sizeof(e->msg);
		if (!nla_parse(tb, NLMSGERR_ATTR_MAX, (void *)((char *)e + hlen),
			       nlh->nlmsg_len - NLMSG_HDRLEN - hlen, NULL)) {
			if (tb[NLMSGERR_ATTR_MSG])
				snprintf(r->extack, sizeof(r->extack), "%s",
					 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
			if (tb[NLMSGERR_ATTR_OFFS] && r->msg) {
				uint32_t off = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
				struct nlmsghdr *req = nlmsg_hdr(r->msg);

				if (off + sizeof(struct nlattr) <= req->nlmsg_len)
					r->bad_attr = nla_type((void *)((char *)req + off));
			}
			if (tb[NLMSGERR_ATTR_POLICY])
				nlreq_policy(r, tb[NLMSGERR_ATTR_POLICY]);
		}
	}
	return NL_STOP;
}

static inline int nlreq_done(struct nl_msg *msg, void *arg)
{
	struct nlreq *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

static inline int nlreq_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[64] = { NULL };
	struct nlreq *r = arg;

	r->nreplies++;
	if (!r->parse)
		return NL_OK;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, r->maxattr, NULL))
		return NL_SKIP;
	return r->parse(tb, nlmsg_hdr(msg), r->arg);
}

static inline void nlreq_init(struct nlreq *r, struct nl_sock *sk,
			      int family, int cmd, int flags)
{
	memset(r, 0, sizeof(*r));
	r->sk = sk;
	r->family = family;
	r->bad_attr = -1;
	r->msg = nlmsg_alloc();
	genlmsg_put(r->msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
		    flags | NLM_F_ACK, cmd, RESPOOL_FAMILY_VERSION);
}

/* Send, collect replies; returns 0 or -errno (also in r->err). */
static inline int nlreq_run(struct nlreq *r)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nlreq_valid, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, nlreq_done, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, nlreq_done, r);
	nl_cb_err(cb, NL_CB_CUSTOM, nlreq_err, r);
	if (nl_send_auto(r->sk, r->msg) < 0) {
		r->err = -EIO;
		r->done = true;
	}
	while (!r->done) {
		if (nl_recvmsgs(r->sk, cb) < 0 && !r->done) {
			r->err = -EIO;
			break;
		}
	}
	nl_cb_put(cb);
	nlmsg_free(r->msg);
	r->msg = NULL;
	return r->err;
}

/* An unsigned attribute of 4 or 8 bytes; UINT64_MAX when absent. */
static inline uint64_t nl_uint(struct nlattr *a)
{
	if (!a)
		return UINT64_MAX;
	return nla_len(a) >= 8 ? nla_get_u64(a) : nla_get_u32(a);
}

#endif /* _RESPOOL_NL_H */
