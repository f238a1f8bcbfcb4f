//! Entities by `Name`, for scripts' `find(name)`.
//!
//! A scan of every named entity per call made 5,000 scripts that each
//! `find` their target on start a quadratic start-up (25 million name
//! comparisons). The index follows every `Name` as it is inserted,
//! replaced and removed (observers run at once, so an entity named this
//! frame, by Rust or by a script's `spawn`, is found this frame), and keeps
//! entities of one name in the order they were named: `find` gives the
//! first still named so.

use std::collections::BTreeMap;

use bevy::ecs::lifecycle::{Discard, Insert};
use bevy::ecs::prelude::*;
use bevy::platform::collections::HashMap;
use bevy::prelude::Name;

#[derive(Resource, Default)]
pub(crate) struct NameIndex {
    /// The entities of each name, by when they were named (many entities
    /// may share a name: removing one stays cheap).
    by_name: HashMap<String, BTreeMap<u64, Entity>>,
    /// When each named entity was named: its key in `by_name`.
    named_at: HashMap<Entity, u64>,
    next: u64,
}

impl NameIndex {
    /// The entity named `name` first, of those that still are.
    pub(crate) fn first(&self, name: &str) -> Option<Entity> {
        let named = self.by_name.get(name)?;
        named.first_key_value().map(|(_, &entity)| entity)
    }

    fn add(&mut self, name: &str, entity: Entity) {
        let at = self.next;
        self.next += 1;
        self.by_name
            .entry(name.to_string())
            .or_default()
            .insert(at, entity);
        self.named_at.insert(entity, at);
    }

    fn remove(&mut self, name: &str, entity: Entity) {
        let Some(at) = self.named_at.remove(&entity) else {
            return;
        };
        if let Some(named) = self.by_name.get_mut(name) {
            named.remove(&at);
            if named.is_empty() {
                self.by_name.remove(name);
            }
        }
    }
}

/// Indexes the entities named before the plugin was added, and follows
/// every change of a `Name` from then on.
pub(crate) fn install(app: &mut bevy::app::App) {
    let mut index = NameIndex::default();
    let world = app.world_mut();
    let mut named = world.query::<(Entity, &Name)>();
    for (entity, name) in named.iter(world) {
        index.add(name.as_str(), entity);
    }
    world.insert_resource(index);
    app.add_observer(named_inserted)
        .add_observer(named_replaced);
}

fn named_inserted(inserted: On<Insert, Name>, names: Query<&Name>, mut index: ResMut<NameIndex>) {
    if let Ok(name) = names.get(inserted.entity) {
        index.add(name.as_str(), inserted.entity);
    }
}

/// A name replaced or removed (the entity despawned too): runs while the
/// old name is still there.
fn named_replaced(replaced: On<Discard, Name>, names: Query<&Name>, mut index: ResMut<NameIndex>) {
    if let Ok(name) = names.get(replaced.entity) {
        index.remove(name.as_str(), replaced.entity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::app::App;

    fn first(world: &World, name: &str) -> Option<Entity> {
        world.resource::<NameIndex>().first(name)
    }

    #[test]
    fn the_index_follows_names_as_they_come_and_go() {
        let mut app = App::new();
        let early = app.world_mut().spawn(Name::new("a")).id();
        install(&mut app);
        let world = app.world_mut();
        // Named before the index existed.
        assert_eq!(first(world, "a"), Some(early));
        // Of two of a name, the first named; renamed, the other.
        let later = world.spawn(Name::new("a")).id();
        assert_eq!(first(world, "a"), Some(early));
        world.entity_mut(early).insert(Name::new("b"));
        assert_eq!(first(world, "a"), Some(later));
        assert_eq!(first(world, "b"), Some(early));
        // Despawned, and the name removed.
        world.despawn(later);
        assert_eq!(first(world, "a"), None);
        world.entity_mut(early).remove::<Name>();
        assert_eq!(first(world, "b"), None);
        // Many of one name, despawned in turn.
        let bullets: Vec<Entity> = (0..1000)
            .map(|_| world.spawn(Name::new("bullet")).id())
            .collect();
        for &bullet in &bullets[..999] {
            assert_eq!(first(world, "bullet"), Some(bullet));
            world.despawn(bullet);
        }
        assert_eq!(first(world, "bullet"), Some(bullets[999]));
    }
}
