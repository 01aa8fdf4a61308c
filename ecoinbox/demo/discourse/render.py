"""How the local forum writes its JSON: users, categories, posts, topics, search results and
notifications, as Discourse 3.x does (`ForumJson`)."""

from __future__ import annotations

import html
from typing import Any

from ecoinbox.demo.discourse.markup import (
    WORDS,
    avatar_template,
    blurb,
    excerpt,
    fancy_title,
)
from ecoinbox.demo.discourse.records import (
    CHUNK_SIZE,
    Category,
    Notification,
    Post,
    SearchQuery,
    Topic,
    User,
    visible_post,
)
from ecoinbox.demo.discourse.state import DiscourseState
from ecoinbox.demo.loopback import (
    iso_millis,
)


class ForumJson(DiscourseState):
    # -- rendering ---------------------------------------------------------------------------

    def _user_json(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "avatar_template": avatar_template(user.username),
        }

    def _category_json(self, category: Category, viewer: User | None) -> dict[str, Any]:
        topics = [t for t in self._topics.values() if t.category is category]
        return {
            "id": category.id,
            "name": category.name,
            "color": category.color,
            "text_color": "FFFFFF",
            "slug": category.slug,
            "topic_count": len(topics),
            "post_count": sum(len(t.posts) for t in topics),
            "position": category.position,
            "description": f"<p>{html.escape(category.description, quote=False)}</p>",
            "description_text": category.description,
            "description_excerpt": category.description,
            "topic_url": f"/t/about-the-{category.slug}-category",
            "read_restricted": False,
            "permission": 1 if viewer is not None else None,
            "notification_level": 1,
            "can_edit": bool(viewer and viewer.staff),
            "topic_template": None,
            "has_children": False,
            "sort_order": "",
            "sort_ascending": None,
            "show_subcategory_list": False,
            "num_featured_topics": 3,
            "default_view": None,
            "subcategory_list_style": "rows_with_featured_topics",
            "default_top_period": "all",
            "minimum_required_tags": 0,
            "navigate_to_first_post_after_read": False,
            "parent_category_id": None,
            "uploaded_logo": None,
            "uploaded_background": None,
        }

    def _post_json(
        self, post: Post, viewer: User | None, *, raw: bool = False, listing: bool = False
    ) -> dict[str, Any]:
        user, topic = post.user, post.topic
        staff_viewer = bool(viewer and viewer.staff)
        yours = viewer is user
        entity: dict[str, Any] = {
            "id": post.id,
            "name": user.name,
            "username": user.username,
            "avatar_template": avatar_template(user.username),
            "created_at": iso_millis(post.created_at),
            "cooked": post.cooked,
            "post_number": post.post_number,
            "post_type": 1,
            "updated_at": iso_millis(post.updated_at or post.created_at),
            "reply_count": sum(1 for p in topic.posts if p.reply_to_post_number == post.post_number),
            "reply_to_post_number": post.reply_to_post_number,
            "quote_count": 0,
            "incoming_link_count": 0,
            "reads": 1 + post.id % 7,
            "score": 0,
            "yours": yours,
            "topic_id": topic.id,
            "topic_slug": topic.slug,
            "topic_title": topic.title,
            "category_id": topic.category.id,
            "display_username": user.name,
            "primary_group_name": None,
            "version": post.version,
            "can_edit": yours or staff_viewer,
            "can_delete": yours or staff_viewer,
            "can_recover": staff_viewer,
            "can_wiki": staff_viewer,
            "user_title": None,
            "bookmarked": False,
            "actions_summary": [],
            "moderator": user.moderator,
            "admin": user.admin,
            "staff": user.staff,
            "user_id": user.id,
            "hidden": post.hidden,
            "trust_level": user.trust_level,
            "deleted_at": iso_millis(post.deleted_at) if post.deleted_at else None,
            "user_deleted": post.user_deleted,
            "edit_reason": None,
            "can_view_edit_history": True,
            "wiki": False,
        }
        parent = self._parent(post)
        if parent is not None:
            entity["reply_to_user"] = {
                "username": parent.user.username,
                "name": parent.user.name,
                "avatar_template": avatar_template(parent.user.username),
            }
        if raw:
            entity["raw"] = post.raw
        if listing:
            entity["topic_html_title"] = html.escape(topic.title, quote=False)
            entity["excerpt"] = excerpt(post.cooked, 300)
        return entity

    def _topic_json(
        self, topic: Topic, viewer: User | None, first_posts: list[dict[str, Any]]
    ) -> dict[str, Any]:
        last = topic.posts[-1]
        posters: dict[int, tuple[User, int]] = {}
        for post in topic.posts:
            user, count = posters.get(post.user.id, (post.user, 0))
            posters[post.user.id] = (user, count + 1)
        return {
            "post_stream": {
                "posts": first_posts,
                "stream": [p.id for p in topic.posts if visible_post(p, viewer)],
            },
            "timeline_lookup": [[1, 0]],
            "tags": [],
            "id": topic.id,
            "title": topic.title,
            "fancy_title": fancy_title(topic.title),
            "posts_count": len(topic.posts),
            "created_at": iso_millis(topic.created_at),
            "views": 10 * len(topic.posts) + topic.id % 9,
            "reply_count": len(topic.posts) - 1,
            "like_count": 0,
            "last_posted_at": iso_millis(last.created_at),
            "visible": True,
            "closed": False,
            "archived": False,
            "has_summary": False,
            "archetype": "regular",
            "slug": topic.slug,
            "category_id": topic.category.id,
            "word_count": sum(len(WORDS.findall(p.raw)) for p in topic.posts),
            "deleted_at": None,
            "user_id": topic.user.id,
            "featured_link": None,
            "pinned_globally": False,
            "pinned_at": None,
            "pinned_until": None,
            "image_url": None,
            "slow_mode_seconds": 0,
            "draft": None,
            "draft_key": f"topic_{topic.id}",
            "draft_sequence": 0,
            "unpinned": None,
            "pinned": False,
            "current_post_number": 1,
            "highest_post_number": len(topic.posts),
            "deleted_by": None,
            "has_deleted": False,
            "actions_summary": [],
            "chunk_size": CHUNK_SIZE,
            "bookmarked": False,
            "message_bus_last_id": 0,
            "participant_count": len(posters),
            "details": {
                "can_create_post": viewer is not None,
                "can_reply_as_new_topic": viewer is not None,
                "notification_level": 3 if viewer and viewer.id in topic.watchers else 1,
                "created_by": self._user_json(topic.user),
                "last_poster": self._user_json(last.user),
                "participants": [
                    {
                        **self._user_json(user),
                        "post_count": count,
                        "trust_level": user.trust_level,
                        "admin": user.admin,
                        "moderator": user.moderator,
                    }
                    for user, count in sorted(posters.values(), key=lambda uc: -uc[1])
                ],
            },
        }

    def _topic_list_item(self, topic: Topic) -> dict[str, Any]:
        last = topic.posts[-1]
        return {
            "id": topic.id,
            "title": topic.title,
            "fancy_title": fancy_title(topic.title),
            "slug": topic.slug,
            "posts_count": len(topic.posts),
            "reply_count": len(topic.posts) - 1,
            "highest_post_number": len(topic.posts),
            "created_at": iso_millis(topic.created_at),
            "last_posted_at": iso_millis(last.created_at),
            "bumped": True,
            "bumped_at": iso_millis(last.created_at),
            "archetype": "regular",
            "unseen": False,
            "pinned": False,
            "unpinned": None,
            "visible": True,
            "closed": False,
            "archived": False,
            "bookmarked": None,
            "liked": None,
            "tags": [],
            "category_id": topic.category.id,
        }

    def _search_post_json(self, post: Post, query: SearchQuery) -> dict[str, Any]:
        return {
            "id": post.id,
            "name": post.user.name,
            "username": post.user.username,
            "avatar_template": avatar_template(post.user.username),
            "created_at": iso_millis(post.created_at),
            "like_count": 0,
            "blurb": blurb(post.cooked, query.terms),
            "post_number": post.post_number,
            "topic_id": post.topic.id,
        }

    def _notification_json(self, notification: Notification) -> dict[str, Any]:
        post = notification.post
        topic = post.topic
        return {
            "id": notification.id,
            "user_id": notification.user_id,
            "notification_type": notification.type,
            "read": notification.read,
            "high_priority": False,
            "created_at": iso_millis(notification.created_at),
            "post_number": post.post_number,
            "topic_id": topic.id,
            "fancy_title": fancy_title(topic.title),
            "slug": topic.slug,
            "data": {
                "topic_title": topic.title,
                "original_post_id": post.id,
                "original_post_type": 1,
                "original_username": post.user.username,
                "revision_number": None,
                "display_username": post.user.username,
            },
        }
