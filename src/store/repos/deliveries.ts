/** Webhook deliveries and command comments, each claimed once by its unique key. */
import { key } from '../records.js';
import { stmt, type Sql } from '../sql.js';

const WEEK = 7 * 86_400_000;

export const deliveryStatements = {
  claimDelivery: stmt('claimDelivery', 'INSERT INTO deliveries (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
  deliverySeen: stmt('deliverySeen', 'SELECT 1 AS seen FROM deliveries WHERE id = ?'),
  claimComment: stmt('claimComment', 'INSERT INTO command_comments (comment_id, account, received_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
  commentSeen: stmt('commentSeen', 'SELECT 1 AS seen FROM command_comments WHERE comment_id = ?'),
  pruneDeliveries: stmt('pruneDeliveries', 'DELETE FROM deliveries WHERE received_at < ?'),
};
const s = deliveryStatements;

export function deliveriesRepo(sql: Sql) {
  return {
    /** true when this delivery id is new (and is now recorded) */
    async claimDelivery(id: string, event: string, now: number): Promise<boolean> {
      return (await sql.run(s.claimDelivery, [id, event, now])) === 1;
    },
    async deliverySeen(id: string): Promise<boolean> {
      return (await sql.get(s.deliverySeen, [id])) !== undefined;
    },
    /** true when this comment has not been run before */
    async claimComment(commentId: number, account: string, now: number): Promise<boolean> {
      return (await sql.run(s.claimComment, [commentId, key(account), now])) === 1;
    },
    async commentSeen(commentId: number): Promise<boolean> {
      return (await sql.get(s.commentSeen, [commentId])) !== undefined;
    },
    /** drops delivery ids older than a week (GitHub's redeliveries come sooner) */
    async pruneDeliveries(now: number): Promise<number> {
      return sql.run(s.pruneDeliveries, [now - WEEK]);
    },
  };
}
