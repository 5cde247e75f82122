"""The fleet: crawl and index workers on several machines sharing one Redis (QINGYUAN_REDIS_URL).

Redis Streams with consumer groups carry the work: each crawl job has a frontier stream of pages to fetch (one
entry per page, taken by one crawl worker, acknowledged only when the page's posts and follow-up pages are written
back in one atomic step) and a seen-set of page fingerprints; crawled pages' posts go on one post stream that index
workers consume in batches, acknowledging only after the index and the casebook hold them. Unacknowledged work of a
dead worker is claimed by another after `claim_after_s` (XAUTOCLAIM); a message delivered `max_tries` times goes to
the dead-letter stream. `fleet.keys` owns every Redis name.
"""
